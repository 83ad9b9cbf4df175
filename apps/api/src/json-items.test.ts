import { describe, expect, it } from 'vitest';
import { JsonItemsScanner, LONG_STRING } from './json-items.ts';
import { parseItem } from './large-items.ts';

/** The scanner fed `body` in pieces of `size` characters: its items and envelope. */
function scan(body: string, size = body.length) {
  const scanner = new JsonItemsScanner('content');
  for (let i = 0; i < body.length; i += size) scanner.push(body.slice(i, i + size));
  scanner.end();
  return { items: scanner.items, envelope: scanner.envelope, longStrings: scanner.longStrings };
}

/** Whether `body` is refused, whatever its pieces: by the scanner, or by parsing the items or envelope. */
async function refused(body: string): Promise<boolean[]> {
  const out: boolean[] = [];
  for (const size of [1, 2, 3, 7, body.length]) {
    try {
      const { items, envelope, longStrings } = scan(body, size);
      JSON.parse(envelope);
      for (const [i, text] of (items ?? []).entries()) await parseItem(text, longStrings[i]!);
      out.push(false);
    } catch (err) {
      expect(err).toBeInstanceOf(SyntaxError);
      out.push(true);
    }
  }
  return out;
}

describe('JsonItemsScanner', () => {
  it('slices each element of the array under the key as written, however the body is cut', () => {
    const body = `{"agent_id":"a","content":[ {"role":"user","content":"x","metadata":{"n":12345678901234567890}} ,\n  {"content":[{"t":"]}"}],"role":"tool"}, 1e400 , "s\\"]" ,true], "n": -1.5e3 , "z":null}`;
    for (let size = 1; size <= body.length; size++) {
      expect(scan(body, size)).toMatchObject({
        items: [
          '{"role":"user","content":"x","metadata":{"n":12345678901234567890}}',
          '{"content":[{"t":"]}"}],"role":"tool"}',
          '1e400',
          '"s\\"]"',
          'true',
        ],
        envelope: '{"agent_id":"a","content":[], "n": -1.5e3 , "z":null}',
      });
    }
  });

  it('skips other keys, nested look-alikes and escaped quotes; the last repeated key counts', () => {
    const body = `{"x":{"content":["no"]},"s":"\\"content\\":[1]","content":["first"],"content":["a\\\\\\"b",{"k":[[]]}]}`;
    for (const size of [1, 2, 5, body.length]) {
      const { items, envelope } = scan(body, size);
      expect(items).toEqual(['"a\\\\\\"b"', '{"k":[[]]}']);
      expect(JSON.parse(envelope)).toEqual({ x: { content: ['no'] }, s: '"content":[1]', content: [] });
    }
    expect(scan('{"content":["a"],"content":"text"}').items).toBeNull();
  });

  it('has no items without the array, and none in an empty one', () => {
    expect(scan('{"agent_id":"a"}').items).toBeNull();
    expect(scan('{"content":[ ]}').items).toEqual([]);
    expect(scan('[1]').items).toBeNull();
    expect(scan('[1]').envelope).toBe('[1]');
  });

  it('refuses what is not JSON around and between the items, and the items and envelope parse the rest', async () => {
    for (const bad of [
      '{"content":[1,]}',
      '{"content":[,1]}',
      '{"content":[1 2]}',
      '{"content":[{"a":1]}',
      '{"content":[1}',
      '{"content":[1]',
      '{"content":[1],}',
      '{"a" "content":[1]}',
      '{"content":[1]} x',
      '{"content":["open]}',
      '{"content":[tru]}',
      '',
      '  ',
    ]) {
      expect(await refused(bad), bad).toEqual([true, true, true, true, true]);
    }
    expect(await refused('{"content":[1, {"a":[true,null]}, "x"], "m":{}}')).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('notes the long strings of an item, and parses the item to the value JSON.parse gives', async () => {
    const plain = 'A'.repeat(LONG_STRING * 3);
    // escapes on every side of the 1 MiB pieces of the decoder: \\, \", \n, \u escapes and a surrogate pair
    const escaped = `${'é\\"x\\\\\n😀\u0001'.repeat(300_000)}`;
    const item = { role: 'user', [plain]: 'a long key', content: [{ data: plain }, { text: escaped }, 'short'] };
    const text = JSON.stringify(item, null, 1);
    const body = `{"content":[${text}]}`;
    const { items, longStrings } = scan(body, 65_536);
    expect(items).toEqual([text]);
    expect(longStrings[0]!.map((s) => [s.end - s.start, s.escaped])).toEqual([
      [plain.length + 2, false],
      [plain.length + 2, false],
      [JSON.stringify(escaped).length, true],
    ]);
    expect(await parseItem(text, longStrings[0]!)).toEqual(item);
  });

  it('does not take a client string for a placeholder', async () => {
    const long = 'B'.repeat(LONG_STRING);
    const text = JSON.stringify([long, '\u0000:0', '\u0000']);
    const { items, longStrings } = scan(`{"content":[${text}]}`);
    expect(await parseItem(items![0]!, longStrings[0]!)).toEqual([long, '\u0000:0', '\u0000']);
  });
});
