/**
 * The source text of each element of the array under `key` of a JSON object, as it appears in
 * `json` (already known to be valid JSON): so that items are stored as sent, with their number
 * precision, key order and spacing, rather than re-serialized from their parsed value. Null when
 * the object has no such array. Like JSON.parse, the last of repeated keys counts.
 */
export function arrayElementTexts(json: string, key: string): string[] | null {
  let i = skipSpace(json, 0);
  if (json[i] !== '{') return null;
  i++;
  let found: string[] | null = null;
  for (;;) {
    i = skipSpace(json, i);
    if (json[i] === '}' || i >= json.length) return found;
    const keyStart = i;
    i = skipString(json, i);
    const name = JSON.parse(json.slice(keyStart, i)) as string;
    i = skipSpace(json, i) + 1; // the colon
    i = skipSpace(json, i);
    if (name === key && json[i] === '[') [found, i] = elements(json, i);
    else i = skipValue(json, i);
    i = skipSpace(json, i);
    if (json[i] === ',') i++;
  }
}

function elements(json: string, open: number): [string[], number] {
  const out: string[] = [];
  let i = open + 1;
  for (;;) {
    i = skipSpace(json, i);
    if (json[i] === ']' || i >= json.length) return [out, i + 1];
    const start = i;
    i = skipValue(json, i);
    out.push(json.slice(start, i));
    i = skipSpace(json, i);
    if (json[i] === ',') i++;
  }
}

function skipSpace(json: string, i: number): number {
  while (i < json.length) {
    const c = json.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/** Past the string opening at `i`. */
function skipString(json: string, i: number): number {
  for (let j = i + 1; j < json.length; j++) {
    const c = json.charCodeAt(j);
    if (c === 0x5c) j++;
    else if (c === 0x22) return j + 1;
  }
  return json.length;
}

/** Past the value starting at `i`: a string, an object or array (with everything nested), or a literal. */
function skipValue(json: string, i: number): number {
  const first = json[i];
  if (first === '"') return skipString(json, i);
  if (first === '{' || first === '[') {
    let depth = 0;
    for (let j = i; j < json.length; j++) {
      const c = json[j];
      if (c === '"') j = skipString(json, j) - 1;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return json.length;
  }
  let j = i;
  while (j < json.length && !',}] \n\r\t'.includes(json[j]!)) j++;
  return j;
}
