import { describe, expect, it } from 'vitest';
import { base64Runs, countItemTokens } from './item-tokens.ts';
import { imageTokens } from './media-tokens.ts';
import { jpegImage, png } from './test-images.ts';

// one token per character: the tests check what is counted, not the tokenizer
const chars = (text: string) => text.length;

describe('imageTokens', () => {
  it('follows OpenAI: fit in 2048, short side to 768, 85 + 170 per 512-px tile; low detail 85', () => {
    expect(imageTokens({ width: 1024, height: 1024 }, 'openai')).toBe(85 + 170 * 4);
    expect(imageTokens({ width: 2048, height: 4096 }, 'openai')).toBe(85 + 170 * 6); // → 1024×2048 → 768×1536
    expect(imageTokens({ width: 100, height: 100 }, 'openai')).toBe(85 + 170);
    expect(imageTokens({ width: 4000, height: 4000 }, 'openai', 'low')).toBe(85);
    expect(imageTokens({ width: 1024, height: 1024 }, 'openai-mini')).toBe(2833 + 5667 * 4);
  });

  it('follows Anthropic (w·h/750 after fitting the long edge in 1568) and Gemini (258 per 768 tile)', () => {
    expect(imageTokens({ width: 1000, height: 750 }, 'anthropic')).toBe(1000);
    expect(imageTokens({ width: 3136, height: 1568 }, 'anthropic')).toBe(Math.ceil((1568 * 784) / 750));
    expect(imageTokens({ width: 300, height: 300 }, 'gemini')).toBe(258);
    expect(imageTokens({ width: 1000, height: 800 }, 'gemini')).toBe(258 * 4);
  });
});

describe('countItemTokens', () => {
  const image = png(1000, 750).toString('base64');

  it('counts an Anthropic base64 image from its header, never as text', () => {
    const item = {
      role: 'user',
      content: [
        { type: 'text', text: 'what is this?' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: image } },
      ],
    };
    expect(countItemTokens(item, 'ctxvault', chars, 'anthropic')).toEqual({
      tokens: 13 + 1000,
      role: 'user',
      estimated: false,
      estimated_parts: [],
    });
  });

  it('counts an OpenAI image_url data URL (with its detail) and an input_image, and estimates a URL image', () => {
    const jpeg = jpegImage(512, 512).toString('base64');
    const item = {
      role: 'user',
      content: [
        { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${jpeg}` } },
        { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${jpeg}`, detail: 'low' } },
        { type: 'input_image', detail: 'auto', image_url: `data:image/png;base64,${image}` },
      ],
    };
    expect(countItemTokens(item, 'ctxvault', chars, 'openai')).toEqual({
      tokens: 85 + 170 + 85 + (85 + 170 * 4),
      role: 'user',
      estimated: false,
      estimated_parts: [],
    });
    const byUrl = {
      role: 'user',
      content: [{ type: 'image_url', image_url: { url: 'https://example.test/cat.png' } }],
    };
    expect(countItemTokens(byUrl, 'ctxvault', chars, 'openai')).toEqual({
      tokens: 85 + 170 * 4,
      role: 'user',
      estimated: true,
      estimated_parts: ['content[0]'],
    });
  });

  it('estimates files, documents and audio by their size, and media hidden in other parts', () => {
    const pdf = Buffer.alloc(64 * 100).toString('base64');
    const audio = Buffer.alloc(1600 * 10).toString('base64');
    const item = {
      role: 'user',
      content: [
        { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: pdf } },
        { type: 'input_audio', input_audio: { data: audio, format: 'mp3' } },
        { type: 'file', file: { file_id: 'file-123' } },
      ],
    };
    expect(countItemTokens(item, 'ctxvault', chars, 'openai')).toEqual({
      tokens: 100 + 10 + 1000,
      role: 'user',
      estimated: true,
      estimated_parts: ['content[0]', 'content[1]', 'content[2]'],
    });
    const odd = { role: 'tool', content: [{ type: 'custom', blob: Buffer.alloc(6400).toString('base64') }] };
    const counted = countItemTokens(odd, 'ctxvault', chars, 'openai');
    expect(counted.estimated_parts).toEqual(['content[0]']);
    expect(counted.tokens).toBe(100 + JSON.stringify({ type: 'custom', blob: '' }).length);
  });

  it('counts Gemini inline data, plain text, and keeps a given tokens count', () => {
    const gemini = { role: 'user', parts: [{ text: 'hi' }, { inlineData: { mimeType: 'image/png', data: image } }] };
    expect(countItemTokens(gemini, 'gemini', chars, 'gemini')).toEqual({
      tokens: 2 + 258 * 2,
      role: 'user',
      estimated: false,
      estimated_parts: [],
    });
    expect(countItemTokens({ role: 'assistant', content: 'hello' }, 'ctxvault', chars, 'openai').tokens).toBe(5);
    expect(
      countItemTokens({ role: 'assistant', content: 'hello', tokens: 42 }, 'ctxvault', chars, 'openai').tokens,
    ).toBe(42);
  });
});

describe('base64 inside text', () => {
  it('is estimated at 1.45 characters a token, the text around it tokenized', () => {
    const blob = Buffer.alloc(3000, 7).toString('base64'); // 4000 characters
    const item = { role: 'user', content: `see data:image/png;base64,${blob} there` };
    const counted = countItemTokens(item, 'ctxvault', chars, 'openai');
    expect(counted).toEqual({
      tokens: 'see data:image/png;base64,'.length + Math.ceil(4000 / 1.45) + ' there'.length,
      role: 'user',
      estimated: true,
      estimated_parts: ['content'],
    });
    const prose = 'word '.repeat(200);
    expect(countItemTokens({ role: 'user', content: prose }, 'ctxvault', chars, 'openai')).toEqual({
      tokens: prose.length,
      role: 'user',
      estimated: false,
      estimated_parts: [],
    });
  });

  it('takes runs of 256 or more of its characters, with up to two = after them, and nothing shorter', () => {
    const tokens = (content: string) => countItemTokens({ role: 'user', content }, 'ctxvault', chars, 'openai').tokens;
    const run = (n: number) => 'Ab+/9'.repeat(Math.ceil(n / 5)).slice(0, n);
    const estimated = (n: number) => Math.ceil(n / 1.45);
    expect(tokens(`x ${run(255)}= y`)).toBe(`x ${run(255)}= y`.length);
    expect(tokens(`x ${run(256)} y`)).toBe(2 + estimated(256) + 2);
    // at most two = belong to the run; the third is text
    expect(tokens(`é${run(300)}===${run(260)}`)).toBe(1 + estimated(302) + 1 + estimated(260));
    expect(tokens(`==${run(400)}`)).toBe(2 + estimated(400));
  });

  it('finds the runs the regular expression finds, on random mixes of runs, words and =', () => {
    let seed = 5;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pieces = ['=', '==', '===', ' ', 'é', '-', '\n'];
    for (let i = 0; i < 500; i++) {
      let text = '';
      while (text.length < 3000) {
        const kind = rand(3);
        if (kind === 0) text += 'aZ09+/'.repeat(100).slice(0, 200 + rand(200));
        else if (kind === 1) text += 'word '.repeat(rand(80));
        else text += pieces[rand(pieces.length)];
      }
      const expected = [...text.matchAll(/[A-Za-z0-9+/]{256,}={0,2}/g)].map((m) => [m.index, m.index + m[0].length]);
      expect(base64Runs(text)).toEqual(expected);
    }
  });

  it('counts hosted-tool items: a screenshot and a generated image by their size, calls as their arguments', () => {
    const image = png(1000, 750).toString('base64');
    const screenshot = {
      type: 'computer_call_output',
      call_id: 'call_1',
      output: { type: 'computer_screenshot', image_url: `data:image/png;base64,${image}` },
    };
    expect(countItemTokens(screenshot, 'openai.responses', chars, 'openai')).toEqual({
      tokens: imageTokens({ width: 1000, height: 750 }, 'openai'),
      role: 'tool',
      estimated: false,
      estimated_parts: [],
    });
    const generated = { type: 'image_generation_call', id: 'ig_1', result: image, status: 'completed' };
    expect(countItemTokens(generated, 'openai.responses', chars, 'openai').tokens).toBe(
      imageTokens({ width: 1000, height: 750 }, 'openai'),
    );
    const call = {
      type: 'shell_call',
      call_id: 'call_2',
      action: { commands: ['ls'] },
    };
    expect(countItemTokens(call, 'openai.responses', chars, 'openai')).toMatchObject({
      tokens: 'shell_call'.length + '{"commands":["ls"]}'.length,
      role: 'assistant',
    });
    const server = {
      role: 'assistant',
      content: [
        { type: 'server_tool_use', id: 's1', name: 'web_search', input: { query: 'q' } },
        {
          type: 'web_search_tool_result',
          tool_use_id: 's1',
          content: [{ type: 'web_search_result', url: 'u', title: 't', encrypted_content: 'x'.repeat(2000) }],
        },
      ],
    };
    const counted = countItemTokens(server, 'anthropic.messages', chars, 'anthropic');
    // the encrypted result is not text the model reads as such: estimated, and said so
    expect(counted).toMatchObject({ role: 'assistant', estimated: true });
    expect(counted.estimated_parts).toEqual(['content[1].content[0].encrypted_content']);
    expect(counted.tokens).toBeLessThan(2000);
  });
});
