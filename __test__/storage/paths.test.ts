import assert from 'node:assert/strict';
import { suite } from 'uvu';
import { StorageError } from '../../src/storage/errors';
import {
  assertSafePath,
  compareKeys,
  isReservedName,
  keyFromPath,
  objectPath,
} from '../../src/storage/paths';
import { byteOrder, prng } from './helpers';

const p = suite('paths');

p('objectPath escapes every segment into a safe path and keyFromPath reverses it', () => {
  const keys = [
    '',
    'a',
    'a/',
    '/a',
    'a//b',
    '.',
    '..',
    '../x',
    'a/./b',
    '%',
    '%e',
    '%2E',
    'a\\b',
    'x\ny',
    'cairn.meta',
    'a/cairn.d.1',
    '😀/é',
  ];
  for (const k of keys) {
    const rel = objectPath(k);
    assertSafePath(rel);
    for (const seg of rel.split('/')) assert.equal(isReservedName(seg), false, `${k} -> ${rel}`);
    assert.equal(keyFromPath(rel), k);
  }
  assert.throws(
    () => objectPath('a\0b'),
    (e: unknown) => e instanceof StorageError && e.code === 'InvalidPath',
  );
  assert.throws(
    () => objectPath('x'.repeat(300)),
    (e: unknown) => e instanceof StorageError && e.code === 'FileNameTooLong',
  );
});

p('compareKeys orders as UTF-8 bytes, astral characters included', () => {
  const cases: [string, string][] = [
    ['a', 'b'],
    ['a', 'a-b'],
    ['a-b', 'a/x'],
    ['a/x', 'a0'],
    ['\uFFFD', '😀'],
    ['\uE000', '😀'],
    ['😀', '😁'], // same high surrogate: the low halves decide
    ['😀a', '😀b'],
    ['\u{10000}', '\u{10FFFF}'],
    ['', '\0'],
  ];
  for (const [a, b] of cases) {
    assert.ok(compareKeys(a, b) < 0, `${JSON.stringify(a)} < ${JSON.stringify(b)}`);
    assert.ok(compareKeys(b, a) > 0, `${JSON.stringify(b)} > ${JSON.stringify(a)}`);
    assert.equal(compareKeys(a, a), 0);
  }
  const rnd = prng(7);
  const alphabet = ['a', 'z', '/', '-', '\u00e9', '\uFFFD', '\uE000', '😀', '😁', '\u{10FFFF}'];
  const words = Array.from({ length: 400 }, () =>
    Array.from({ length: Math.floor(rnd() * 5) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join(
      '',
    ),
  );
  for (let i = 0; i < words.length - 1; i++) {
    const [a, b] = [words[i]!, words[i + 1]!];
    assert.equal(Math.sign(compareKeys(a, b)), Math.sign(byteOrder(a, b)), `${a} vs ${b}`);
  }
});

p('assertSafePath refuses what could leave a volume', () => {
  for (const bad of ['/a', 'a/', '//', 'a//b', '.', '..', 'a/..', './a', 'a\0', 'a\\b']) {
    assert.throws(
      () => assertSafePath(bad),
      (e: unknown) => e instanceof StorageError && e.code === 'InvalidPath',
      bad,
    );
  }
  for (const ok of ['', 'a', 'a/b', '%2E%2E', '.a', 'a..', '...']) assertSafePath(ok);
});

p.run();
