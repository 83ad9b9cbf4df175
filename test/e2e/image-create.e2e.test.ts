// A create holding an 8 MB base64 image on the real API: the image is counted by Anthropic's formula
// from its header, never tokenized as text, so the API keeps answering /healthz meanwhile.

import { describe, expect, it } from 'vitest';
import { api, waitUntilSettled } from '../helpers/contexts.ts';
import { randomPng } from '../helpers/images.ts';
import { useSuite } from '../helpers/suite.ts';

const suite = useSuite();

describe('a create holding an 8 MB base64 image', () => {
  it('is stored, counted by formula, and /healthz answers all the while', async () => {
    // a first small create starts the API's counting thread (it loads the tokenizer's tables off the event loop)
    const warm = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      json: { agent_id: 'image', model_id: 'claude-sonnet-4-5', content: [{ role: 'user', content: 'warm up' }] },
    });
    expect(warm.status).toBe(201);
    const image = randomPng(4000, 3000, 6_000_000).toString('base64');
    expect(image.length).toBeGreaterThan(8_000_000);
    let polling = true;
    const health = { answered: 0, failed: 0 };
    const poller = (async () => {
      while (polling) {
        try {
          const res = await fetch(`${suite.app.url}/healthz`, { signal: AbortSignal.timeout(5000) });
          await res.arrayBuffer();
          if (res.ok) health.answered++;
          else health.failed++;
        } catch {
          health.failed++;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    const created = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      json: {
        agent_id: 'image',
        model_id: 'claude-sonnet-4-5',
        content: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in this picture?' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: image } },
            ],
          },
        ],
      },
    });
    expect([201, 202], created.text).toContain(created.status);
    if (created.status === 202)
      expect((await waitUntilSettled(suite.app.url, created.json.id)).at(-1).status).toBe('stored');
    polling = false;
    await poller;
    expect(health.failed).toBe(0);
    expect(health.answered).toBeGreaterThan(0);

    // the image is counted by a worker, beside the upload: the context says so until it is done
    await expect
      .poll(async () => (await api(suite.app.url, `/api/v1/contexts/${created.json.id}/status`)).json.tokens_final, {
        timeout: 60_000,
      })
      .toBe(true);
    const context = await api(suite.app.url, `/api/v1/contexts/${created.json.id}`);
    expect(context.status).toBe(200);
    expect(context.json.content[0].content[1].source.data).toBe(image);
    // 4000 × 3000 scaled to a long edge of 1568 (1568 × 1176), / 750 → 2459, plus the question's few tokens
    expect(context.json.current_tokens).toBeGreaterThan(2459);
    expect(context.json.current_tokens).toBeLessThan(2459 + 20);
  });
});
