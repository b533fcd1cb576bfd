/**
 * Where a command's body comes from: an inline flag, a file, or stdin when neither is given (so
 * `cat event.json | hookbridge send …` and `hookbridge verify … < body` work).
 */
import fs from 'node:fs';
import { UsageError } from './config-file.js';
import { notice } from './output.js';

export async function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY) notice('reading from stdin; end with Ctrl-D (or pass --data / --file)');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The raw bytes from `inline` (a flag's text), `file`, or stdin. */
export async function readBytes(inline: string | undefined, file: string | undefined, inlineFlag: string): Promise<Buffer> {
  if (inline !== undefined && file !== undefined) throw new UsageError(`give either ${inlineFlag} or --file, not both`);
  if (inline !== undefined) return Buffer.from(inline, 'utf8');
  if (file !== undefined) {
    try {
      return fs.readFileSync(file);
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
    }
  }
  return readStdin();
}

/** A JSON value from `--data`, `--file` or stdin. */
export async function readJson(inline: string | undefined, file: string | undefined): Promise<unknown> {
  const bytes = await readBytes(inline, file, '--data');
  const where = inline !== undefined ? '--data' : file !== undefined ? file : 'stdin';
  const text = bytes.toString('utf8');
  if (text.trim() === '') throw new UsageError(`the payload from ${where} is empty`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`the payload from ${where} is not valid JSON: ${(e as Error).message}`);
  }
}

/** A JSON file given as a flag value (a JSON Schema, a verification object). */
export function readJsonFile(file: string): Promise<unknown> {
  return readJson(undefined, file);
}
