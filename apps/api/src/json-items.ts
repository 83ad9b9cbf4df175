/**
 * A resumable scanner of a JSON object body, fed its text piece by piece as it arrives: it slices
 * out the source text of each element of the array under `key` (so that items are stored as sent,
 * with their number precision, key order and spacing) and keeps the rest of the body, with that
 * array emptied, as the envelope. No pass walks the whole body at once: each piece is scanned when
 * it arrives, and strings are skipped with `indexOf`.
 *
 * The scanner checks what lies between the items (`,` and `]`); the items and the envelope are
 * checked by parsing them (`JSON.parse`), so together a body passes only when it is valid JSON.
 * Like JSON.parse, the last of repeated keys counts. The long strings of each item are noted
 * (`longStrings`), so that a large item can be parsed without one long synchronous pass.
 */
export class JsonItemsScanner {
  /** the text of each complete item of the current items array; null before (or without) one */
  items: string[] | null = null;
  /** per item of `items`, its strings of at least LONG_STRING characters (offsets in the item's text) */
  longStrings: LongString[][] = [];
  private readonly envelopeParts: string[] = [];
  private state: State = 'start';
  /** in the items array: what may come next */
  private expect: 'first' | 'separator' | 'item' = 'first';
  /** nesting depth inside the current nested value (of the envelope or an item) */
  private depth = 0;
  private inString = false;
  /** the last piece ended inside a string on a backslash: its next character is escaped */
  private escaped = false;
  private stringHasEscape = false;
  /** where the current string of an item starts, in the item's text */
  private stringStart = 0;
  /** the key being read (its literal, quotes included) */
  private keyParts: string[] = [];
  private itemsKey = false;
  private itemParts: string[] = [];
  private itemLength = 0;
  private itemLong: LongString[] = [];
  /** characters of the body before the current piece (for error messages) */
  private position = 0;
  // the next quote and backslash at or after a position of the current piece (n: none)
  private nextQuote = -1;
  private nextBackslash = -1;

  constructor(private readonly key: string) {}

  /** Scans the next piece of the body's text; throws a SyntaxError where the body cannot be JSON. */
  push(text: string): void {
    const n = text.length;
    this.nextQuote = -1;
    this.nextBackslash = -1;
    let copyFrom: number | null = this.inEnvelope() ? 0 : null;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case 'key': {
          const end = this.string(text, i);
          this.keyParts.push(text.slice(i, end));
          i = end;
          if (!this.inString) {
            this.itemsKey = (JSON.parse(this.keyParts.join('')) as string) === this.key;
            this.keyParts = [];
            this.state = 'colon';
          }
          break;
        }
        case 'envelope-nested':
          i = this.nested(text, i, 0);
          if (this.depth === 0 && !this.inString) this.state = 'comma-or-end';
          break;
        case 'envelope-literal':
          i = literalEnd(text, i);
          if (i < n) this.state = 'comma-or-end';
          break;
        case 'item-nested': {
          const start = i;
          i = this.nested(text, i, this.itemLength - start);
          this.itemParts.push(text.slice(start, i));
          this.itemLength += i - start;
          if (this.depth === 0 && !this.inString) this.completeItem();
          break;
        }
        case 'item-literal': {
          const start = i;
          i = literalEnd(text, i);
          this.itemParts.push(text.slice(start, i));
          if (i < n) this.completeItem();
          break;
        }
        case 'after':
        case 'opaque':
          i = n;
          break;
        case 'items': {
          i = skipSpace(text, i);
          if (i >= n) break;
          const c = text.charCodeAt(i);
          if (c === CLOSE_BRACKET && this.expect !== 'item') {
            copyFrom = i;
            this.state = 'comma-or-end';
            i++;
          } else if (this.expect === 'separator') {
            if (c !== COMMA) throw this.unexpected(text, i, ', or ] after an item');
            this.expect = 'item';
            i++;
          } else if (c === COMMA || c === CLOSE_BRACKET) {
            throw this.unexpected(text, i, 'an item');
          } else {
            this.itemParts = [];
            this.itemLength = 0;
            this.itemLong = [];
            this.depth = 0;
            this.state = c === OPEN_BRACE || c === OPEN_BRACKET || c === QUOTE ? 'item-nested' : 'item-literal';
          }
          break;
        }
        default: {
          i = skipSpace(text, i);
          if (i >= n) break;
          i = this.structural(text, i);
          if ((this.state as State) === 'items') {
            // the envelope keeps the array's opening bracket, then nothing until its closing one
            this.envelopeParts.push(text.slice(copyFrom!, i));
            copyFrom = null;
          }
        }
      }
    }
    if (copyFrom !== null && copyFrom < n) this.envelopeParts.push(text.slice(copyFrom));
    this.position += n;
  }

  /** Checks that the body ended where a JSON object can end; then `envelope` is complete. */
  end(): void {
    if (this.state === 'item-literal') this.completeItem();
    if (this.state !== 'after' && this.state !== 'opaque' && !(this.state === 'start' && this.position === 0)) {
      throw new SyntaxError(`Unexpected end of JSON input at position ${this.position}`);
    }
  }

  /** The body's text outside the items array, whose brackets stay, with nothing between them. */
  get envelope(): string {
    return this.envelopeParts.join('');
  }

  private inEnvelope(): boolean {
    return this.state !== 'items' && this.state !== 'item-nested' && this.state !== 'item-literal';
  }

  /** The structural character at `i` (not whitespace) in the envelope's object; past it. */
  private structural(text: string, i: number): number {
    const c = text.charCodeAt(i);
    switch (this.state) {
      case 'start':
        if (c !== OPEN_BRACE) {
          // not an object: kept whole as the envelope, whose parse decides (it has no items)
          this.state = 'opaque';
          return text.length;
        }
        this.state = 'key-or-end';
        return i + 1;
      case 'key-or-end':
        if (c === CLOSE_BRACE) {
          this.state = 'after';
          return i + 1;
        }
        if (c !== QUOTE) throw this.unexpected(text, i, 'a key');
        this.state = 'key';
        this.keyParts = [];
        return i;
      case 'colon':
        if (c !== COLON) throw this.unexpected(text, i, ':');
        this.state = 'value';
        return i + 1;
      case 'value':
        if (this.itemsKey) {
          this.items = c === OPEN_BRACKET ? [] : null;
          this.longStrings = [];
          if (c === OPEN_BRACKET) {
            this.expect = 'first';
            this.state = 'items';
            return i + 1;
          }
        }
        this.depth = 0;
        this.state = c === OPEN_BRACE || c === OPEN_BRACKET || c === QUOTE ? 'envelope-nested' : 'envelope-literal';
        return i;
      case 'comma-or-end':
        if (c === COMMA) this.state = 'key-or-end';
        else if (c === CLOSE_BRACE) this.state = 'after';
        else throw this.unexpected(text, i, ', or }');
        return i + 1;
      default:
        throw new Error(`unreachable scanner state ${this.state}`);
    }
  }

  private completeItem(): void {
    this.items!.push(this.itemParts.length === 1 ? this.itemParts[0]! : this.itemParts.join(''));
    this.longStrings.push(this.itemLong);
    this.itemParts = [];
    this.state = 'items';
    this.expect = 'separator';
  }

  /**
   * Through the nested value (object, array or string) that starts or continues at `i`: past its
   * end (then `depth` is 0 and `inString` false), or to the end of `text` when it goes on. `base`
   * maps a position of `text` to the item's text, where long strings are noted.
   */
  private nested(text: string, i: number, base: number): number {
    const n = text.length;
    const item = this.state === 'item-nested';
    while (i < n) {
      if (!this.inString) {
        const c = text.charCodeAt(i);
        if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++;
        else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
          this.depth--;
          if (this.depth <= 0) {
            this.depth = 0;
            return i + 1;
          }
        } else if (c === QUOTE) {
          this.stringStart = i + base;
          this.stringHasEscape = false;
        }
        if (c !== QUOTE) {
          i++;
          continue;
        }
      }
      i = this.string(text, i);
      if (this.inString) return i;
      if (item && i + base - this.stringStart >= LONG_STRING) {
        this.itemLong.push({ start: this.stringStart, end: i + base, escaped: this.stringHasEscape });
      }
      if (this.depth === 0) return i;
    }
    return i;
  }

  /**
   * Through a string literal starting (at its quote) or continuing at `i`: past its closing quote,
   * or to the end of `text`, with `inString` still set, when it goes on in the next piece.
   */
  private string(text: string, i: number): number {
    if (!this.inString) {
      this.inString = true;
      i++;
    } else if (this.escaped) {
      this.escaped = false;
      i++;
    }
    const n = text.length;
    for (;;) {
      if (this.nextQuote < i) this.nextQuote = indexOrEnd(text, '"', i);
      if (this.nextBackslash < i) this.nextBackslash = indexOrEnd(text, '\\', i);
      if (this.nextBackslash < this.nextQuote) {
        this.stringHasEscape = true;
        if (this.nextBackslash + 1 >= n) {
          this.escaped = true;
          return n;
        }
        i = this.nextBackslash + 2;
        continue;
      }
      if (this.nextQuote >= n) return n;
      this.inString = false;
      return this.nextQuote + 1;
    }
  }

  private unexpected(text: string, i: number, expected: string): SyntaxError {
    return new SyntaxError(
      `Unexpected ${JSON.stringify(text[i])} at position ${this.position + i} (expected ${expected})`,
    );
  }
}

/** A string of an item, by its offsets (quotes included) in the item's text. */
export interface LongString {
  start: number;
  end: number;
  /** whether it holds an escape: without one, its value is its text between the quotes */
  escaped: boolean;
}

/** Strings at least this long (with their quotes) are noted as long strings of their item. */
export const LONG_STRING = 64 * 1024;

type State =
  | 'start'
  | 'key-or-end'
  | 'key'
  | 'colon'
  | 'value'
  | 'envelope-nested'
  | 'envelope-literal'
  | 'comma-or-end'
  | 'items'
  | 'item-nested'
  | 'item-literal'
  | 'after'
  | 'opaque';

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

function indexOrEnd(text: string, char: string, from: number): number {
  const at = text.indexOf(char, from);
  return at === -1 ? text.length : at;
}

/** Past the JSON whitespace at `i`. */
export function skipSpace(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/** Past a literal (number, true, false, null): up to the next delimiter, or the end of `text`. */
function literalEnd(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === COMMA || c === CLOSE_BRACKET || c === CLOSE_BRACE || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)
      break;
    i++;
  }
  return i;
}
