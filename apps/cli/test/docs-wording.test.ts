import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { expect, it } from 'vitest'
import { ROOT } from './vtl.js'

// The repository's documents (READMEs, docs/, CONTRIBUTING.md…) are written in our own words:
// they never point into the design notes the code was written from (section numbers such as
// "§13.15", their file names, the folder beside the repository). Code comments may.

const SKIP = new Set(['node_modules', 'dist', '.git', '.turbo', '.changeset', 'coverage'])

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return []
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return markdownFiles(path)
    return entry.name.endsWith('.md') ? [path] : []
  })
}

const CITATIONS = [
  /§\s?\d/,
  /\.\.\/shared\b/,
  /\bvsm-on-tdx\.md\b/,
  /\babi\.md\b/,
  /\barchitecture\.md\b/,
  /\bts-ecosystem\.md\b/,
  /\blandscape\.md\b/,
  /\bbench-format\.md\b/,
]

it('no document cites the design notes', () => {
  const found = markdownFiles(ROOT).flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, i) =>
        CITATIONS.some((re) => re.test(line))
          ? [`${relative(ROOT, file)}:${i + 1}: ${line.trim()}`]
          : []
      )
  )
  expect(found).toEqual([])
})
