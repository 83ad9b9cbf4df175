import { describe, expect, it } from 'vitest';
import { Tokenizer } from './tokens.ts';

describe('Tokenizer', () => {
  const auto = new Tokenizer({ encoding: 'auto', defaultEncoding: 'o200k_base' });

  it('picks the encoding from the model id, else the default', () => {
    expect(auto.encodingFor('gpt-4')).toBe('cl100k_base');
    expect(auto.encodingFor('gpt-4o')).toBe('o200k_base');
    expect(auto.encodingFor('claude-sonnet-4')).toBe('o200k_base');
    expect(auto.encodingFor(null)).toBe('o200k_base');
    expect(new Tokenizer({ encoding: 'auto', defaultEncoding: 'p50k_base' }).encodingFor('my-model')).toBe('p50k_base');
  });

  it('uses the configured encoding whatever the model', () => {
    expect(new Tokenizer({ encoding: 'r50k_base', defaultEncoding: 'o200k_base' }).encodingFor('gpt-4o')).toBe(
      'r50k_base',
    );
  });

  it('counts real tokens, per encoding, and keeps counts the client gave', async () => {
    const o200k = await auto.forModel('gpt-4o');
    const cl100k = await auto.forModel('gpt-4');
    expect(o200k({ role: 'user', content: 'hello world' })).toBe(2);
    // the same emoji run costs differently in the two encodings
    const text = 'Bonjour 👋🏽 — ça va? 日本語のテキスト';
    expect(o200k({ role: 'user', content: text })).not.toBe(cl100k({ role: 'user', content: text }));
    expect(o200k({ role: 'user', content: 'hello world', tokens: 99 })).toBe(99);
  });

  it('counts the text of structured parts, images by formula (never as text), tool calls by name and arguments', async () => {
    const count = await auto.forModel(null);
    const parts = count({
      role: 'assistant',
      content: [
        { type: 'text', text: 'hello world' },
        { type: 'image', image: 'https://example.test/cat.png' },
        { type: 'tool_use', id: 't1', name: 'x', input: {} },
      ],
    });
    const text = (content: string) => count({ role: 'user', content });
    const toolUse = text('x') + text('{}');
    // an image only referenced by URL is estimated as 1024×1024: 85 + 170 × 4 tiles (OpenAI's formula)
    expect(parts).toBe(2 + 765 + toolUse);
  });
});
