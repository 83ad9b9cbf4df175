// A deterministic, realistic corpus of LLM conversations for the benchmark: prose, code, JSON tool
// output and some base64, generated from a seeded PRNG so every run compresses the same bytes.

export interface CorpusItem {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  tokens: number;
}

/** mulberry32: small, fast, good enough for generating text. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the a an of to in and or but is are was were be been this that these those it its we you they i ' +
  'context window model token tokens request response agent session memory cache storage upload ' +
  'function value error result query database index table column row latency throughput stream ' +
  'buffer chunk part version conflict retry backoff worker queue job status pending stored failed ' +
  'please could would should can will might must because therefore however although since while ' +
  'user assistant system tool message conversation summary answer question example detail step ' +
  'first second then next finally also only just very more less most least each every some any ' +
  'file path line code test build deploy config setting option default limit size bytes time ' +
  'simple careful correct fast slow large small new old good bad clear exact likely possible'
).split(' ');

const IDENTS = [
  'ctx',
  'body',
  'item',
  'opts',
  'res',
  'req',
  'row',
  'key',
  'part',
  'chunk',
  'buf',
  'err',
  'count',
  'total',
  'limit',
  'offset',
  'cursor',
  'entry',
];
const TYPES = [
  'string',
  'number',
  'Buffer',
  'Context',
  'Item[]',
  'Promise<void>',
  'boolean',
  'Record<string, unknown>',
];
const NAMES = ['Ada', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Frances'];
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

class CorpusGenerator {
  private readonly rand: () => number;
  private turn = 0;

  constructor(seed = 42) {
    this.rand = prng(seed);
  }

  private int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  private sentence(): string {
    const n = 6 + this.int(18);
    const words: string[] = [];
    for (let i = 0; i < n; i++) words.push(this.pick(WORDS));
    const s = words.join(' ');
    return s[0]!.toUpperCase() + s.slice(1) + (this.rand() < 0.15 ? '?' : '.');
  }

  prose(sentences: number): string {
    const out: string[] = [];
    for (let i = 0; i < sentences; i++) out.push(this.sentence());
    return out.join(' ');
  }

  code(lines: number): string {
    const out = ['```ts'];
    const fn = `${this.pick(IDENTS)}${this.pick(['Reader', 'Writer', 'Handler', 'Store', 'Queue'])}`;
    out.push(
      `export async function ${fn}(${this.pick(IDENTS)}: ${this.pick(TYPES)}, ${this.pick(IDENTS)}: ${this.pick(TYPES)}): Promise<${this.pick(TYPES)}> {`,
    );
    for (let i = 0; i < lines; i++) {
      const indent = '  '.repeat(1 + this.int(3));
      switch (this.int(5)) {
        case 0:
          out.push(
            `${indent}const ${this.pick(IDENTS)} = await ${this.pick(IDENTS)}.${this.pick(['get', 'read', 'send', 'query', 'write'])}(${this.pick(IDENTS)}, ${this.int(1000)});`,
          );
          break;
        case 1:
          out.push(
            `${indent}if (${this.pick(IDENTS)}.length > ${this.int(4096)}) throw new Error('${this.prose(1).slice(0, 40)}');`,
          );
          break;
        case 2:
          out.push(
            `${indent}for (const ${this.pick(IDENTS)} of ${this.pick(IDENTS)}) ${this.pick(IDENTS)} += ${this.pick(IDENTS)}.size;`,
          );
          break;
        case 3:
          out.push(`${indent}// ${this.sentence()}`);
          break;
        default:
          out.push(`${indent}return { ${this.pick(IDENTS)}, ${this.pick(IDENTS)}: ${this.int(100)} };`);
      }
    }
    out.push('}', '```');
    return out.join('\n');
  }

  json(records: number): string {
    const rows = [];
    for (let i = 0; i < records; i++) {
      rows.push({
        id: `${this.int(1e9).toString(16)}-${this.int(1e6)}`,
        name: this.pick(NAMES),
        path: `/srv/${this.pick(IDENTS)}/${this.pick(IDENTS)}.${this.pick(['ts', 'json', 'md', 'py'])}`,
        size: this.int(1 << 20),
        score: Math.round(this.rand() * 10000) / 10000,
        ok: this.rand() < 0.9,
        tags: [this.pick(WORDS), this.pick(WORDS)],
        updated_at: new Date(1_700_000_000_000 + this.int(3e10)).toISOString(),
      });
    }
    return JSON.stringify(
      { tool: this.pick(['search', 'read_file', 'sql', 'http_get']), count: records, results: rows },
      null,
      1,
    );
  }

  base64(bytes: number): string {
    let s = '';
    const n = Math.ceil(bytes / 3) * 4;
    for (let i = 0; i < n; i++) s += B64[this.int(64)];
    return `data:image/png;base64,${s}`;
  }

  /** The next item of the conversation: roles take turns, each with its typical content. */
  next(): CorpusItem {
    const t = this.turn++;
    let role: CorpusItem['role'];
    let content: string;
    if (t === 0) {
      role = 'system';
      content = `You are a careful assistant. ${this.prose(4)}`;
    } else {
      const phase = t % 4;
      if (phase === 1) {
        role = 'user';
        content = this.prose(1 + this.int(6));
        if (this.rand() < 0.05) content += `\n${this.base64(2048 + this.int(8192))}`;
      } else if (phase === 2) {
        role = 'assistant';
        content = `${this.prose(2 + this.int(8))}\n\n${this.rand() < 0.6 ? this.code(8 + this.int(40)) : this.prose(3)}`;
      } else if (phase === 3) {
        role = 'tool';
        content = this.json(3 + this.int(25));
      } else {
        role = 'assistant';
        content = this.prose(3 + this.int(10));
      }
    }
    return { role, content, tokens: Math.ceil(content.length / 4) };
  }
}

/**
 * NDJSON body: the envelope line, then one item a line, about `bytes` long (at least). With
 * `tokens: false` the items carry no `tokens`, so ctxvault counts them itself.
 */
export function ndjsonCorpus(bytes: number, envelope: object, seed = 42, { tokens = true } = {}): Buffer {
  const gen = new CorpusGenerator(seed);
  const parts: Buffer[] = [Buffer.from(`${JSON.stringify(envelope)}\n`)];
  let total = parts[0]!.length;
  let batch: string[] = [];
  let batchLen = 0;
  while (total + batchLen < bytes) {
    const { tokens: count, ...item } = gen.next();
    const line = `${JSON.stringify(tokens ? { ...item, tokens: count } : item)}\n`;
    batch.push(line);
    batchLen += line.length;
    if (batchLen > 1 << 20) {
      const b = Buffer.from(batch.join(''));
      parts.push(b);
      total += b.length;
      batch = [];
      batchLen = 0;
    }
  }
  if (batch.length) parts.push(Buffer.from(batch.join('')));
  return Buffer.concat(parts);
}

/** Items whose JSON adds up to about `bytes` (the last one cut to fit), for JSON request bodies. */
export function corpusItems(bytes: number, seed = 7): CorpusItem[] {
  const gen = new CorpusGenerator(seed);
  const items: CorpusItem[] = [];
  let total = 0;
  while (total < bytes) {
    const item = gen.next();
    const size = JSON.stringify(item).length + 1;
    if (total + size > bytes) {
      item.content = item.content.slice(0, Math.max(16, bytes - total - 60));
      item.tokens = Math.ceil(item.content.length / 4);
      items.push(item);
      break;
    }
    items.push(item);
    total += size;
  }
  return items;
}
