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

/**
 * Walks the pieces, pushing each id to `ids` and each piece's end (a UTF-16 offset) to `ends`
 * when given. Returns the piece count. One flat loop, no callback: it runs on every request.
 */
function walk(text: string, ids: number[] | null, ends: number[] | null): number {
  let count = 0;
  let bytes = 0;
  let value = 0;
  for (let i = 0; i < text.length;) {
    const cp = text.codePointAt(i)!;
    if (cp > 0xffff) {
      // Astral characters are a token of their own.
      if (bytes > 0) {
        count++;
        if (ids) ids.push((bytes === 1 ? 0 : bytes === 2 ? OFFSET_2 : OFFSET_3) + value);
        if (ends) ends.push(i);
        bytes = 0;
        value = 0;
      }
      count++;
      if (ids) ids.push(OFFSET_ASTRAL + cp - 0x10000);
      i += 2;
      if (ends) ends.push(i);
      continue;
    }
    const len = utf8Len(cp);
    if (bytes > 0 && (bytes + len > 3 || isSpace(cp))) {
      count++;
      if (ids) ids.push((bytes === 1 ? 0 : bytes === 2 ? OFFSET_2 : OFFSET_3) + value);
      if (ends) ends.push(i);
      bytes = 0;
      value = 0;
    }
    if (len === 1) value = value * 256 + cp;
    else if (len === 2) value = value * 65536 + (((0xc0 | (cp >> 6)) << 8) | (0x80 | (cp & 63)));
    else value = ((0xe0 | (cp >> 12)) << 16) | ((0x80 | ((cp >> 6) & 63)) << 8) | (0x80 | (cp & 63));
    bytes += len;
    i++;
  }
  if (bytes > 0) {
    count++;
    if (ids) ids.push((bytes === 1 ? 0 : bytes === 2 ? OFFSET_2 : OFFSET_3) + value);
    if (ends) ends.push(text.length);
  }
  return count;
}

export function countTokens(text: string): number {
  return walk(text, null, null);
}

export function tokenize(text: string): number[] {
  const ids: number[] = [];
  walk(text, ids, null);
  return ids;
}

/** The text of each token, in order; joined they give back `text`. */
export function pieces(text: string): string[] {
  const ends: number[] = [];
  walk(text, null, ends);
  const out: string[] = new Array(ends.length);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    out[i] = text.slice(start, ends[i]);
    start = ends[i];
  }
  return out;
}

/**
 * A small bounded memo for texts that recur (load generators and agents resend the same prompts
 * and system messages): the oldest entry goes first once `maxEntries` are held, and texts longer
 * than `maxChars` are not kept. Values are frozen, as they are shared between requests.
 */
export class TextMemo<V> {
  private readonly map = new Map<string, V>();
  constructor(
    private readonly compute: (text: string) => V,
    private readonly maxEntries = 256,
    private readonly maxChars = 4096,
  ) {}
  get(text: string): V {
    let v = this.map.get(text);
    if (v !== undefined) return v;
    v = this.compute(text);
    if (text.length <= this.maxChars) {
      if (this.map.size >= this.maxEntries) this.map.delete(this.map.keys().next().value as string);
      this.map.set(text, v);
    }
    return v;
  }
}

const piecesMemo = new TextMemo<readonly string[]>((t) => Object.freeze(pieces(t)));

/** `pieces`, memoised; the array is shared and frozen. */
export function piecesShared(text: string): readonly string[] {
  return piecesMemo.get(text);
}

export function isValidTokenId(id: unknown): id is number {
  return typeof id === "number" && Number.isInteger(id) && id >= 0 && id < VOCAB_SIZE;
}

export function decodeToken(id: number): string {
  if (id >= OFFSET_ASTRAL) return String.fromCodePoint(id - OFFSET_ASTRAL + 0x10000);
  const bytes =
    id < OFFSET_2
      ? [id]
      : id < OFFSET_3
        ? [(id - OFFSET_2) >> 8, (id - OFFSET_2) & 255]
        : [(id - OFFSET_3) >> 16, ((id - OFFSET_3) >> 8) & 255, (id - OFFSET_3) & 255];
  return Buffer.from(bytes).toString("utf8");
}

export function detokenize(ids: readonly number[]): string {
  let out = "";
  for (const id of ids) out += decodeToken(id);
  return out;
}
