import { Command, Option } from 'commander'
import { client, columns, print, type CliContext } from '../context.js'
import { toJson } from '../output/json.js'
import { renderTdOverview, tdOverview } from '../td-overview.js'
import { checkOutputFile, isStdout } from '../output-file.js'
import { parseByteSize, parseIntIn, parseTdName } from '../parse.js'
import { renderDone, renderTd, renderTdList } from '../output/answers.js'
import { example, send } from './stateful.js'
import { tdStepCommand } from './td-step.js'

interface CreateFlags {
  name?: string
  vps: number
  memory: bigint
  gpaWidth: string
  mbec: boolean
  json?: boolean
}

export function tdCommand(ctx: CliContext): Command {
  const td = new Command('td').description(
    'trust domains owned by vtld (create, list, show, delete, save, restore, step)'
  )

  example(
    td
      .command('create')
      .description('create a TD on vtld’s backend (simulated, unless vtld runs with --backend hw)')
      .option('--name <name>', 'a name to refer to it by (1 to 64 characters)', parseTdName)
      .option('--vps <n>', 'virtual processors, 1..1024', parseIntIn(1, 1024), 4)
      .addOption(
        new Option('--memory <size>', 'guest RAM from GPA 0: bytes or 64MiB, 1GiB…')
          .argParser(parseByteSize)
          .default(64n << 20n, '64MiB')
      )
      .addOption(
        new Option('--gpa-width <bits>', 'guest physical address width')
          .choices(['48', '52'])
          .default('48')
      )
      .option('--no-mbec', 'a host without mode-based execute control')
      .option('--json', 'print the created TD as JSON'),
    'vtl td create --name demo --vps 4 --memory 64MiB'
  ).action(async (flags: CreateFlags, command: Command) => {
    await send(
      ctx,
      command,
      {
        op: 'td.create',
        ...(flags.name === undefined ? {} : { name: flags.name }),
        vps: flags.vps,
        memory: flags.memory,
        gpaWidth: flags.gpaWidth === '52' ? 52 : 48,
        mbec: flags.mbec,
      },
      flags.json,
      renderTd
    )
  })

  example(
    td
      .command('list')
      .description('list TDs (in creation order)')
      .option('--json', 'print the list as JSON')
      .option('--names', 'print only each TD’s name (its id when it has none), one per line'),
    'vtl td list'
  ).action(async (flags: { json?: boolean; names?: boolean }, command: Command) => {
    if (flags.names === true) {
      const { tds } = await client(ctx, command).request({ op: 'td.list' })
      for (const t of tds) print(ctx, t.name ?? t.id)
      return
    }
    await send(ctx, command, { op: 'td.list' }, flags.json, renderTdList)
  })

  example(
    td
      .command('show')
      .description('show a TD: VPs, VSM state, memory summary')
      .argument('<td>', 'TD name or id')
      .option(
        '--json',
        'print the TD with vsm {partition, vps} (as vsm status) and memoryMap (bytes, 0x hex) as JSON'
      ),
    'vtl td show demo'
  ).action(async (id: string, flags: { json?: boolean }, command: Command) => {
    const overview = await tdOverview(client(ctx, command), id)
    print(ctx, flags.json === true ? toJson(overview) : renderTdOverview(overview, columns(ctx)))
  })

  example(
    td
      .command('delete')
      .description('delete a TD')
      .argument('<td>', 'TD name or id')
      .option('--force', 'do not wait for commands queued on it (they fail)')
      .option('--json', 'print the answer as JSON'),
    'vtl td delete demo'
  ).action(async (id: string, flags: { force?: boolean; json?: boolean }, command: Command) => {
    await send(
      ctx,
      command,
      { op: 'td.delete', td: id, force: flags.force === true },
      flags.json,
      renderDone
    )
  })

  example(
    td
      .command('save')
      .description('save a TD’s complete state (snapshot) to a file (mode 0600)')
      .argument('<td>', 'TD name or id')
      .requiredOption('-o, --out <file>', 'snapshot file to write (- for stdout)')
      .option('--json', 'print the answer as JSON'),
    'vtl td save demo -o demo.snapshot.json'
  ).action(async (id: string, flags: { out: string; json?: boolean }, command: Command) => {
    await checkOutputFile('--out', flags.out)
    if (isStdout(flags.out)) {
      const answer = await client(ctx, command).request({ op: 'td.save', td: id, file: flags.out })
      ctx.stdout.write(answer.text ?? '')
      return
    }
    await send(ctx, command, { op: 'td.save', td: id, file: flags.out }, flags.json, renderDone)
  })

  example(
    td
      .command('restore')
      .description('create a TD from a snapshot file')
      .argument('<file>', 'snapshot file')
      .option('--name <name>', 'name of the restored TD (1 to 64 characters)', parseTdName)
      .option('--json', 'print the restored TD as JSON'),
    'vtl td restore demo.snapshot.json --name demo2'
  ).action(async (file: string, flags: { name?: string; json?: boolean }, command: Command) => {
    await send(
      ctx,
      command,
      { op: 'td.restore', file, ...(flags.name === undefined ? {} : { name: flags.name }) },
      flags.json,
      renderTd
    )
  })

  td.addCommand(tdStepCommand(ctx))
  return td
}
