/**
 * A deterministic, reversible tokenizer with no vocabulary file. Text is cut into pieces of at
 * most three UTF-8 bytes (never splitting a character; whitespace always starts a new piece), and
 * a piece's id encodes its bytes. Every count the server reports (usage, /tokenize, metrics, the
 * max-model-len check) comes from here, so they always agree, and detokenize(tokenize(x)) === x.
 */
const OFFSET_2 = 256;
const OFFSET_3 = OFFSET_2 + 65536;
const OFFSET_ASTRAL = OFFSET_3 + 16777216;
export const VOCAB_SIZE = OFFSET_ASTRAL + 0x100000;

const isSpace = (c: number) => c === 32 || c === 10 || c === 9 || c === 13;

function utf8Len(cp: number): number {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/** Walks the pieces; `emit(start, end, id)` gets UTF-16 offsets. Returns the piece count. */
function walk(text: string, emit?: (start: number, end: number, id: number) => void): number {
  let count = 0;
  let start = 0;
  let bytes = 0;
  let value = 0;
  const flush = (end: number) => {
    if (bytes === 0) return;
    count++;
    if (emit) emit(start, end, (bytes === 1 ? 0 : bytes === 2 ? OFFSET_2 : OFFSET_3) + value);
    bytes = 0;
    value = 0;
    start = end;
  };
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const len = utf8Len(cp);
    if (len === 4) {
      flush(i);
      count++;
      if (emit) emit(i, i + 2, OFFSET_ASTRAL + cp - 0x10000);
      i += 2;
      start = i;
      continue;
    }
    if (bytes > 0 && (bytes + len > 3 || isSpace(cp))) flush(i);
    if (len === 1) value = value * 256 + cp;
    else if (len === 2) value = value * 65536 + (((0xc0 | (cp >> 6)) << 8) | (0x80 | (cp & 63)));
    else value = ((0xe0 | (cp >> 12)) << 16) | ((0x80 | ((cp >> 6) & 63)) << 8) | (0x80 | (cp & 63));
    bytes += len;
    i += width;
  }
  flush(text.length);
  return count;
}

export function countTokens(text: string): number {
  return walk(text);
}

export function tokenize(text: string): number[] {
  const ids: number[] = [];
  walk(text, (_s, _e, id) => ids.push(id));
  return ids;
}

/** The text of each token, in order; joined they give back `text`. */
export function pieces(text: string): string[] {
  const out: string[] = [];
  walk(text, (s, e) => out.push(text.slice(s, e)));
  return out;
}

export function isValidTokenId(id: unknown): id is number {
  return typeof id === "number" && Number.isInteger(id) && id >= 0 && id < VOCAB_SIZE;
}

export function decodeToken(id: number): string {
  if (id >= OFFSET_ASTRAL) return String.fromCodePoint(id - OFFSET_ASTRAL + 0x10000);
  const bytes = id < OFFSET_2 ? [id] : id < OFFSET_3 ? [(id - OFFSET_2) >> 8, (id - OFFSET_2) & 255] : [(id - OFFSET_3) >> 16, ((id - OFFSET_3) >> 8) & 255, (id - OFFSET_3) & 255];
  return Buffer.from(bytes).toString("utf8");
}

export function detokenize(ids: readonly number[]): string {
  let out = "";
  for (const id of ids) out += decodeToken(id);
  return out;
}
