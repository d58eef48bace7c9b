import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { createProgram } from '../program.js'
import { bashCompletion, commandTree, fishCompletion, zshCompletion } from './completion.js'

// TD names are completed from the daemon the typed --socket / --url / --token name. Each script
// runs in its shell with a stand-in `vtl` that answers its own arguments as the one "TD name", so
// the candidate shows which daemon was asked.

const tmp = mkdtempSync(join(tmpdir(), 'vtl-completion-'))
const tree = commandTree(createProgram())
const installed = (shell: string): boolean =>
  spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0

function run(shell: string, script: string, body: string): string {
  const file = join(tmp, `vtl.${shell}`)
  writeFileSync(file, script)
  const r = spawnSync(shell, ['-c', body.replaceAll('SCRIPT', file)], { encoding: 'utf8' })
  expect(r.stderr).toBe('')
  return r.stdout.trim()
}

const LINES: [string, string][] = [
  [
    'vtl --url http://127.0.0.1:7070 --token t td show ',
    '--url,http://127.0.0.1:7070,--token,t,td,list,--names',
  ],
  ['vtl --socket=/run/a.sock vsm status --td ', '--socket,/run/a.sock,td,list,--names'],
  ['vtl --socket ~/v.sock td show ', `--socket,${homedir()}/v.sock,td,list,--names`],
  ['vtl td show ', 'td,list,--names'],
]

/** `w` single-quoted for the shell. */
const sq = (w: string): string => `'${w.replaceAll("'", `'\\''`)}'`

/** COMP_WORDS as bash fills it: split at blanks, and at = and : (COMP_WORDBREAKS), kept as words. */
const compWords = (line: string): string[] => [
  ...line.split(' ').flatMap((w) => w.split(/([=:])/).filter((p) => p !== '')),
  '',
]

describe('completion scripts ask the daemon the command line names for TDs', () => {
  it.each(LINES)('bash: %s', (line, asked) => {
    const out = run(
      'bash',
      bashCompletion(tree),
      `source SCRIPT; vtl() { local IFS=,; echo "$*"; }
       COMP_LINE='${line}'; COMP_POINT=\${#COMP_LINE}
       COMP_WORDS=(${compWords(line)
         .map((w) => `'${w}'`)
         .join(' ')}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
       _vtl; echo "\${COMPREPLY[*]}"`
    )
    expect(out).toBe(asked)
  })

  // The words as bash splits them: quoted blanks stay in their word, quotes stay typed, and = and :
  // are words of their own. The stand-in writes its arguments to a file, as compgen -W would expand
  // a $ or quote in the candidate it echoes.
  it.each([
    [`vtl --socket '/a b.sock' td show `, [`'/a b.sock'`], '--socket,/a b.sock'],
    ['vtl --socket /a\\ b.sock td show ', ['/a\\ b.sock'], '--socket,/a b.sock'],
    ['vtl --socket "/a \\"q\\" \\x" td show ', ['"/a \\"q\\" \\x"'], '--socket,/a "q" \\x'],
    ['vtl --socket "$HOME/x" td show ', ['"$HOME/x"'], '--socket,$HOME/x'],
    ["vtl --socket '$(echo ran)' td show ", ["'$(echo ran)'"], '--socket,$(echo ran)'],
    ['vtl --url=http://h:1 td show ', ['=', 'http', ':', '//h', ':', '1'], '--url,http://h:1'],
    ['vtl --socket=~/x.sock td show ', ['=', '~/x.sock'], `--socket,${homedir()}/x.sock`],
  ])('bash, quoted and split words: %s', (line, value, asked) => {
    const flag = /^vtl (--[a-z]+)/.exec(line)?.[1] ?? ''
    const words = ['vtl', flag, ...value, 'td', 'show', ''].map(sq).join(' ')
    const out = run(
      'bash',
      bashCompletion(tree),
      `source SCRIPT; vtl() { local IFS=,; echo "$*" > SCRIPT.args; }
       COMP_LINE=${sq(line)}; COMP_POINT=\${#COMP_LINE}
       COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
       _vtl; cat SCRIPT.args`
    )
    expect(out).toBe(`${asked},td,list,--names`)
  })

  it.skipIf(!installed('zsh'))('zsh (skipped without zsh)', () => {
    for (const [line, asked] of [
      ...LINES,
      [`vtl --socket '/a b.sock' td show `, '--socket,/a b.sock,td,list,--names'],
    ]) {
      const out = run(
        'zsh',
        zshCompletion(tree),
        `compdef() { : }; source SCRIPT; vtl() { local IFS=,; echo "$*" }
         compadd() { print -r -- "\${@[-1]}" }
         words=(\${(z):-"${line}"} ''); CURRENT=\${#words}; _vtl`
      )
      expect(out, line).toBe(asked)
    }
  })

  it.skipIf(!installed('fish'))('fish (skipped without fish)', () => {
    for (const [line, asked] of [
      ...LINES,
      [
        `vtl --url=http://h:1 --socket '/a b.sock' td show `,
        '--url,http://h:1,--socket,/a b.sock,td,list,--names',
      ],
    ]) {
      const out = run(
        'fish',
        fishCompletion(tree),
        `source SCRIPT; function vtl; string join , -- $argv; end; complete -C "${line}"`
      )
      // A flag's value comes with the flag's description after a tab.
      expect(out.split('\t')[0], line).toBe(asked)
    }
  })
})

// A daemon (any --url) chooses its TD names: they are data. None may run, expand, glob or split
// when offered, in any shell; each is offered whole when it starts with the word typed.
describe('TD names from the daemon are offered as they are, never evaluated', () => {
  const pwned = join(tmp, 'pwned')
  const NAMES = [`$(touch ${pwned})`, `\`touch ${pwned}\``, 'a b', '*', 'ab', '~', "it's"]
  /** The stand-in `vtl`: its `td list --names` answers NAMES, one a line. */
  const standIn = (shell: 'sh' | 'fish'): string =>
    shell === 'fish'
      ? `function vtl; printf '%s\\n' ${NAMES.map(sq).join(' ')}; end`
      : `vtl() { printf '%s\\n' ${NAMES.map(sq).join(' ')}; }`
  beforeEach(() => {
    rmSync(pwned, { force: true })
  })

  it.each([
    ['', NAMES],
    ['a', ['a b', 'ab']],
    ['$', [NAMES[0]]],
    ['*', ['*']],
    ['x', []],
  ])('bash, typed %j', (typed, offered) => {
    const line = `vtl td show ${typed}`
    const out = run(
      'bash',
      bashCompletion(tree),
      `source SCRIPT; ${standIn('sh')}
       COMP_LINE=${sq(line)}; COMP_POINT=\${#COMP_LINE}
       COMP_WORDS=(vtl td show ${sq(typed)}); COMP_CWORD=3
       _vtl; printf '<%s>\\n' "\${COMPREPLY[@]}"`
    )
    expect(out.split('\n').filter((l) => l !== '')).toEqual(
      (offered.length === 0 ? [''] : offered).map((n) => `<${n}>`)
    )
    expect(existsSync(pwned)).toBe(false)
  })

  it('bash: file names too come a line each, not split or globbed', () => {
    const dir = mkdtempSync(join(tmp, 'files-'))
    for (const f of ['x y.txt', 'x*', 'xz']) writeFileSync(join(dir, f), '')
    const out = run(
      'bash',
      bashCompletion(tree),
      `source SCRIPT; cd ${sq(dir)}; cur=x; _vtl_complete file; printf '<%s>\\n' "\${COMPREPLY[@]}"`
    )
    expect(out.split('\n').sort()).toEqual(['<x y.txt>', '<x*>', '<xz>'])
  })

  it.skipIf(!installed('zsh'))('zsh (skipped without zsh)', () => {
    const out = run(
      'zsh',
      zshCompletion(tree),
      `compdef() { : }; source SCRIPT; ${standIn('sh')}
       compadd() { shift; printf '<%s>\\n' "$@" }
       words=(vtl td show ''); CURRENT=4; _vtl`
    )
    expect(out.split('\n')).toEqual(NAMES.map((n) => `<${n}>`))
    expect(existsSync(pwned)).toBe(false)
  })

  it.skipIf(!installed('fish'))('fish (skipped without fish)', () => {
    const out = run(
      'fish',
      fishCompletion(tree),
      `source SCRIPT; ${standIn('fish')}; complete -C "vtl td show "`
    )
    expect(out.split('\n').sort()).toEqual([...NAMES].sort())
    expect(existsSync(pwned)).toBe(false)
  })
})
