// The formats section of `pnpm bench`: what reading items through a provider format costs. Counting
// an OpenAI Chat transcript (tool calls, arguments) against the same texts as ctxvault items, and a
// read converted with `?as=anthropic.messages` against the plain read of the same context.
import { InlineTokenCounter } from '@ctxvault/core';

const WORDS =
  'the agent reads the bucket policy then retries the multipart upload with backoff while the user waits'.split(' ');

function sentence(seed: number, words: number): string {
  return Array.from({ length: words }, (_, i) => WORDS[(seed * 7 + i) % WORDS.length]).join(' ');
}

/** An OpenAI Chat transcript of about `bytes`: user turns, parallel tool calls with their results, answers. */
export function openaiChatTranscript(bytes: number): Record<string, unknown>[] {
  const items: Record<string, unknown>[] = [{ role: 'developer', content: 'You are a careful assistant.' }];
  let total = 0;
  for (let turn = 0; total < bytes; turn++) {
    const calls = [0, 1].map((k) => ({
      id: `call_${turn}_${k}`,
      type: 'function',
      function: { name: 'lookup', arguments: JSON.stringify({ query: sentence(turn + k, 40) }) },
    }));
    const step = [
      { role: 'user', content: sentence(turn, 120) },
      { role: 'assistant', content: null, tool_calls: calls },
      ...calls.map((c, k) => ({ role: 'tool', tool_call_id: c.id, content: sentence(turn * 3 + k, 200) })),
      { role: 'assistant', content: sentence(turn * 5, 160) },
    ];
    items.push(...step);
    total += JSON.stringify(step).length;
  }
  return items;
}

/** The same texts as ctxvault items: what counting costs without a format to read. */
function asCtxvault(items: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return items.map((item) => ({
    role: item.role === 'developer' ? 'system' : item.role,
    content:
      typeof item.content === 'string'
        ? item.content
        : (item.tool_calls as { function: { name: string; arguments: string } }[])
            .map((c) => `${c.function.name}\n${c.function.arguments}`)
            .join('\n'),
  }));
}

/** MiB/s counting the transcript as `openai.chat` and its texts as `ctxvault` items, on this thread. */
export async function formatCountingSpeeds(bytes: number): Promise<{ format: number; plain: number }> {
  const counter = new InlineTokenCounter({ encoding: 'o200k_base', defaultEncoding: 'o200k_base' });
  const chat = openaiChatTranscript(bytes).map((item) => JSON.stringify(item));
  const plain = asCtxvault(openaiChatTranscript(bytes)).map((item) => JSON.stringify(item));
  await counter.count(null, plain.slice(0, 50)); // loads the encoding
  const speed = async (texts: string[], format: 'openai.chat' | 'ctxvault') => {
    const started = performance.now();
    await counter.count(null, texts, format);
    const mib = texts.reduce((n, t) => n + t.length, 0) / 2 ** 20;
    return mib / ((performance.now() - started) / 1000);
  };
  const plainSpeed = await speed(plain, 'ctxvault');
  const result = { format: await speed(chat, 'openai.chat'), plain: plainSpeed };
  await counter.close();
  return result;
}
