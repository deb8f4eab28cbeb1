/**
 * Makes the TypeScript sources erasable: what Node's type stripping and Deno run as they are.
 * Mechanical and safe to run again (a second run changes nothing):
 *
 *   1. parameter properties (`constructor(private readonly x: T)`) become a field declared
 *      before the constructor and an assignment at the start of its body (after super());
 *   2. relative import specifiers name the file: `./x.js` → `./x.ts` where x.ts exists
 *      (tsc's rewriteRelativeImportExtensions turns them back into .js where it emits);
 *   3. files that use Buffer import it from node:buffer (Deno has no Buffer global).
 *
 *   node scripts/erasable/rewrite.mjs [dir ...]      (default: src test scripts)
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dirs = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['src', 'test', 'scripts'];

function* tsFiles(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'out' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* tsFiles(path);
    else if (/\.(m|c)?ts$/.test(name) && !name.endsWith('.d.ts')) yield path;
  }
}

/** Index of the bracket closing the one at `open`, skipping strings, comments and `=>`. */
function closing(text, open) {
  const pairs = { '(': ')', '[': ']', '{': '}', '<': '>' };
  const stack = [];
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') { i = text.indexOf('\n', i); continue; }
    if (c === '/' && text[i + 1] === '*') { i = text.indexOf('*/', i) + 1; continue; }
    if (c === "'" || c === '"' || c === '`') {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\') i++;
      continue;
    }
    if (c === '=' && text[i + 1] === '>') { i++; continue; }
    if (c in pairs) stack.push(pairs[c]);
    else if (c === stack[stack.length - 1]) {
      stack.pop();
      if (stack.length === 0) return i;
    } else if (c === '>' && stack.length > 0 && !stack.includes('>')) continue;
    else if (')]}'.includes(c)) {
      // A '<' that was a comparison, not a type's bracket: drop it.
      while (stack.length > 0 && stack[stack.length - 1] === '>') stack.pop();
      if (c === stack[stack.length - 1]) {
        stack.pop();
        if (stack.length === 0) return i;
      }
    }
  }
  throw new Error(`no closing bracket for ${text[open]} at ${open}`);
}

/** Splits a parameter list at its top-level commas, keeping each part's text as written. */
function splitTopLevel(text) {
  const parts = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if ('([{<'.includes(c)) { i = closing(text, i); continue; }
    if (c === '/' && text[i + 1] === '/') { i = text.indexOf('\n', i); continue; }
    if (c === '/' && text[i + 1] === '*') { i = text.indexOf('*/', i) + 1; continue; }
    if (c === "'" || c === '"' || c === '`') { for (i++; text[i] !== c; i++) if (text[i] === '\\') i++; continue; }
    if (c === '=' && text[i + 1] === '>') { i++; continue; }
    if (c === ',') { parts.push(text.slice(start, i)); start = i + 1; }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Index of the first top-level `ch` in text, or -1. */
function topLevel(text, ch) {
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if ('([{<'.includes(c)) { i = closing(text, i); continue; }
    if (c === "'" || c === '"' || c === '`') { for (i++; text[i] !== c; i++) if (text[i] === '\\') i++; continue; }
    if (c === '=' && text[i + 1] === '>') { i++; continue; }
    if (c === ch) return i;
  }
  return -1;
}

const MODIFIER = /^(?:(?:public|private|protected|readonly|override)\s+)+/;

function literalType(value) {
  if (/^(true|false)$/.test(value)) return 'boolean';
  if (/^-?[\d_.]+$/.test(value)) return 'number';
  if (/^['"`]/.test(value)) return 'string';
  throw new Error(`cannot tell the type of a parameter property defaulting to ${value}: give it a type`);
}

function parameterProperties(text) {
  let changed = false;
  const re = /\bconstructor\s*\(/g;
  let m;
  while ((m = re.exec(text)) !== null) {
    const open = m.index + m[0].length - 1;
    const close = closing(text, open);
    const params = splitTopLevel(text.slice(open + 1, close));
    const fields = [];
    const assignments = [];
    const rewritten = params.map((raw) => {
      // Leading comments and whitespace stay with the parameter's field.
      const lead = /^(\s*(?:\/\*[\s\S]*?\*\/\s*|\/\/[^\n]*\n\s*)*)/.exec(raw)[1];
      const body = raw.slice(lead.length);
      const mod = MODIFIER.exec(body);
      if (mod === null) return raw;
      const rest = body.slice(mod[0].length);
      const eq = topLevel(rest, '=');
      const decl = (eq < 0 ? rest : rest.slice(0, eq)).trim();
      const colon = topLevel(decl, ':');
      const name = (colon < 0 ? decl : decl.slice(0, colon)).trim().replace(/\?$/, '');
      const optional = (colon < 0 ? decl : decl.slice(0, colon)).trim().endsWith('?');
      const type = colon < 0 ? literalType(rest.slice(eq + 1).trim()) : decl.slice(colon + 1).trim();
      const comment = lead.trim();
      fields.push({ comment, line: `${mod[0].trim().replace(/\s+/g, ' ')} ${name}${optional ? '?' : ''}: ${type};` });
      assignments.push(`this.${name} = ${name};`);
      // The comment moves to the field; the parameter keeps its place and indentation.
      return lead.replace(/\/\*[\s\S]*?\*\/\s*|\/\/[^\n]*\n\s*/g, '') + rest;
    });
    if (fields.length === 0) continue;
    changed = true;
    // The constructor's indentation, for the fields above it and the statements in it.
    let lineStart = text.lastIndexOf('\n', m.index) + 1;
    // A class written on one line (`class P { constructor(readonly x: number) {} }`): the
    // fields and assignments go on that line too.
    const inline = !/^\s*(?:(?:public|private|protected)\s+)*$/.test(text.slice(lineStart, m.index));
    if (inline) lineStart = m.index;
    const indent = inline ? '' : /^\s*/.exec(text.slice(lineStart))[0];
    // The fields go above the constructor's doc comment, which stays with the constructor.
    const above = text.slice(0, lineStart);
    const doc = inline ? null : /\n([ \t]*\/\*\*(?:(?!\*\/)[\s\S])*\*\/[ \t]*\n)$/.exec(above);
    if (doc !== null) lineStart -= doc[1].length;
    const bodyOpen = text.indexOf('{', close);
    let insertAt = bodyOpen + 1;
    const afterBrace = text.slice(insertAt);
    const superCall = /^\s*super\s*\(/.exec(afterBrace);
    if (superCall !== null) {
      const superClose = closing(text, insertAt + superCall[0].length - 1);
      insertAt = text.indexOf(';', superClose) + 1;
    }
    const bodyIndent = `${indent}  `;
    const statements = inline ? ` ${assignments.join(' ')}` : assignments.map((a) => `\n${bodyIndent}${a}`).join('');
    const emptyBody = text.slice(bodyOpen + 1, closing(text, bodyOpen)).trim() === '';
    const declarations = inline
      ? fields.map((f) => `${f.line} `).join('')
      : fields.map((f) => (f.comment ? `${indent}${f.comment}\n` : '') + `${indent}${f.line}\n`).join('');
    const head = text.slice(0, lineStart) + declarations + text.slice(lineStart, open + 1) + rewritten.join(',') + text.slice(close, insertAt);
    const tail = text.slice(insertAt);
    text = head + statements + (emptyBody && superCall === null ? (inline ? ' ' : `\n${indent}`) : '') + tail;
    re.lastIndex = head.length;
  }
  return { text, changed };
}

function specifiers(text, file) {
  let changed = false;
  const out = text.replace(/((?:\bfrom|\bimport)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]+)\.js\2/g, (all, before, quote, base) => {
    if (!existsSync(resolve(dirname(file), `${base}.ts`))) return all;
    changed = true;
    return `${before}${quote}${base}.ts${quote}`;
  });
  return { text: out, changed };
}

function bufferImport(text) {
  if (!/\bBuffer\b/.test(text.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\/|'(?:\\.|[^'\\])*'|`(?:\\.|[^`\\])*`/g, ''))) return { text, changed: false };
  if (/import\s*\{[^}]*\bBuffer\b[^}]*\}\s*from\s*'node:buffer'/.test(text)) return { text, changed: false };
  // After the leading comment block and shebang, before the first import (or at the top).
  const firstImport = text.search(/^import\s/m);
  const at = firstImport >= 0 ? firstImport : 0;
  return { text: `${text.slice(0, at)}import { Buffer } from 'node:buffer';\n${text.slice(at)}`, changed: true };
}

let files = 0;
for (const dir of dirs) {
  for (const file of tsFiles(resolve(root, dir))) {
    const before = readFileSync(file, 'utf8');
    let text = before;
    text = parameterProperties(text).text;
    text = specifiers(text, file).text;
    if (!file.includes(`${join('test', 'package', 'consumer')}`)) text = bufferImport(text).text;
    if (text !== before) {
      writeFileSync(file, text);
      files++;
    }
  }
}
console.log(`rewrote ${files} files`);
