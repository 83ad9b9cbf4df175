// A person at the dashboard: in a real headless Chromium, open bull-board behind the admin token,
// find an upload that failed on purpose (the bucket did not exist yet), press its retry button and
// see the context become `stored` through the API. Then the interactive API reference at /docs
// (Scalar's, served by the app itself), creating a context from its request client.
// Screenshots of both land in test/artifacts/.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, itemsOfSize, waitUntilSettled } from '../helpers/contexts.ts';
import { useSuite } from '../helpers/suite.ts';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const TOKEN = 'dashboard-token-77c2';
// auth.mode "none" (on loopback): the reference's request client sends no API key here
const suite = useSuite({
  createBucket: false,
  env: { MCP_ADMIN_TOKEN: TOKEN, MCP_QUEUE_ATTEMPTS: '1', MCP_AUTH_MODE: 'none' },
});
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
});
afterAll(() => browser?.close());

it('asks a browser without the token for Basic credentials, and refuses a wrong one', async () => {
  const anonymous = await browser.newPage();
  const response = await anonymous.request.get(`${suite.app.url}/admin/queues`);
  expect(response.status()).toBe(401);
  expect(response.headers()['www-authenticate']).toMatch(/^Basic /);
  await anonymous.close();
  const wrong = await browser.newPage({ httpCredentials: { username: 'operator', password: 'guess' } });
  expect((await wrong.goto(`${suite.app.url}/admin/queues`))?.status()).toBe(401);
  await wrong.close();
});

it('retries a failed upload from the dashboard, and the context becomes stored', async () => {
  const created = await api(suite.app.url, '/api/v1/contexts', {
    method: 'POST',
    json: { agent_id: 'dashboard', content: itemsOfSize(300 * 1024) },
  });
  expect(created.status).toBe(202);
  const { id, job_id: jobId } = created.json;
  expect((await waitUntilSettled(suite.app.url, id)).at(-1)).toMatchObject({
    status: 'failed',
    last_error: expect.stringContaining('does not exist'),
  });
  await suite.bucket.create();

  const page = await browser.newPage({
    httpCredentials: { username: 'operator', password: TOKEN },
    viewport: { width: 1280, height: 900 },
  });
  await page.goto(`${suite.app.url}/admin/queues`);
  await page.getByRole('link', { name: 'context-upload' }).first().click();
  await page.locator('a[href$="context-upload?status=failed"]').last().click();
  const card = page.locator('[class*="card-"]', { has: page.getByText(jobId, { exact: true }) });
  await expect.poll(() => card.count(), { timeout: 15_000 }).toBe(1);
  await card.getByText('does not exist').first().waitFor();
  await page.screenshot({ path: `${ARTIFACTS}dashboard-failed-job.png`, fullPage: true });

  await card.locator('button:has(svg.lucide-refresh-cw)').click();
  await page.getByText('Are you sure that you want to retry this job?').waitFor();
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect
    .poll(async () => (await api(suite.app.url, `/api/v1/contexts/${id}/status`)).json.status, { timeout: 20_000 })
    .toBe('stored');
  await page.locator('a[href$="context-upload?status=completed"]').click();
  await page.getByText(jobId, { exact: true }).waitFor();
  await page.screenshot({ path: `${ARTIFACTS}dashboard-retried-job.png`, fullPage: true });
  const read = await api(suite.app.url, `/api/v1/contexts/${id}`);
  expect(read.json).toMatchObject({ status: 'stored', storage: { provider: 's3' } });
  await page.close();
});

it('serves an interactive API reference at /docs that sends requests, loading nothing from elsewhere', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // the reference is a 4 MB script: parsing it takes a while on a busy machine
  page.setDefaultTimeout(90_000);
  const elsewhere: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(`${suite.app.url}/`) && !request.url().startsWith('data:'))
      elsewhere.push(request.url());
  });
  await page.goto(`${suite.app.url}/docs`);
  // the first group (contexts) is open: its operations are in the sidebar
  await page.getByText('Create a context', { exact: true }).first().click();
  await page.getByRole('button', { name: 'Test Request (post /api/v1/contexts)' }).click();
  const client = page.getByRole('dialog');
  await client
    .locator('.cm-content')
    .filter({ hasText: 'agent_id' })
    .fill(JSON.stringify({ agent_id: 'from-docs', content: [{ role: 'user', content: 'hi' }] }));
  await client.getByRole('button', { name: /^Send/ }).first().click();
  await client.getByText('201 Created').waitFor();
  // the viewport: the client with its answer over the reference (the whole page is over 12000 px tall)
  await page.screenshot({ path: `${ARTIFACTS}docs.png` });
  expect((await api(suite.app.url, '/api/v1/contexts?agent_id=from-docs')).json.items).toHaveLength(1);
  expect(elsewhere).toEqual([]);
  await page.close();
}, 180_000);
