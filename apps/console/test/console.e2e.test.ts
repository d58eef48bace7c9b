import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM, CHROMIUM_ARGS, noBrowser } from './browser.js'
import { missingBuilds, start, type Running } from './processes.js'

// The console in a real Chromium against a real vtld and `vtl ui` (the built programs): the
// one-time link, a TD created from the page, VTL1 enabled from the scenario runner, the VP grid,
// the protected page in the GPA map, the failed hypercall in the log, the trace export, and the
// refusals (no cookie, a foreign Origin or Host). VTL_UPDATE_SCREENSHOT=1 rewrites docs/console.png.

const skipReason = noBrowser()
if (skipReason !== undefined) console.warn(`console browser suite skipped: ${skipReason}`)

describe.skipIf(skipReason !== undefined)('the console in Chromium', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'vtl-console-'))
  const socket = join(tmp, 'vtld.sock')
  let vtld: Running | undefined
  let ui: Running | undefined
  let link = ''
  let origin = ''
  let browser: Browser | undefined
  let context: BrowserContext
  let page: Page

  beforeAll(async () => {
    const missing = missingBuilds()
    if (missing.length > 0) {
      throw new Error(`build first (npx -y pnpm@10.34.9 build): missing ${missing.join(', ')}`)
    }
    vtld = (
      await start('vtld', ['--socket', socket, '--data-dir', join(tmp, 'data')], /vtld listening/)
    ).running
    const started = await start(
      'vtl',
      ['ui', '--socket', socket, '--port', '0', '--no-open'],
      /^(http:\/\/127\.0\.0\.1:\d+)\/ui\/session\?token=[\w-]+$/m
    )
    ui = started.running
    link = started.match[0]
    origin = started.match[1] ?? ''
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
    context = await browser.newContext({
      viewport: { width: 1280, height: 720 },
      acceptDownloads: true,
    })
    page = await context.newPage()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await ui?.stop()
    await vtld?.stop()
    rmSync(tmp, { recursive: true, force: true })
  })

  it('refuses every route before the link is used (401), then opens the console with it', async () => {
    for (const path of ['/ui/', '/v1/tds', '/metrics']) {
      expect((await fetch(`${origin}${path}`)).status, path).toBe(401)
    }
    const answer = await page.goto(link)
    expect(answer?.status()).toBe(200)
    expect(page.url()).toBe(`${origin}/ui/`)
    const [cookie] = await context.cookies()
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' })
    await expect.poll(() => page.locator('h1').textContent()).toBe('Trust domains')
    // The link works once: another browser profile gets 401.
    const other = await browser?.newContext()
    const again = await other?.newPage()
    expect((await again?.goto(link))?.status()).toBe(401)
    await other?.close()
  })

  it('creates a TD, enables VTL1 from the scenario runner and shows it live', async () => {
    await page.getByLabel('Name (optional)').first().fill('e2e')
    await page.getByLabel('VPs').fill('2')
    await page.getByRole('button', { name: 'Create' }).click()
    await page.getByRole('link', { name: 'e2e' }).click()
    const vp0 = page.locator('table.vp-grid tr[data-vp="0"]')
    await expect.poll(() => vp0.locator('td[data-vtl="1"]').textContent()).toBe('not enabled')
    await expect.poll(() => page.locator('.live').textContent()).toBe('● live')

    // The runner in a second tab, the TD view stays open and moves by itself.
    const runner = await context.newPage()
    await runner.goto(
      `${origin}/ui/${(await page.getByRole('link', { name: 'Run a scenario on this TD' }).getAttribute('href')) ?? ''}`
    )
    await expect.poll(() => runner.getByLabel('Run on').inputValue()).toMatch(/^td-/)
    await runner.getByRole('button', { name: 'Run' }).click()
    await expect
      .poll(() => runner.getByTestId('scenario-summary').textContent())
      .toBe('enable-vtl1: 7 passed, 0 failed')
    await runner.getByRole('button', { name: /^4\. VP0 VTL1 hypercall/ }).click()
    await expect
      .poll(() => runner.locator('.step-detail pre').textContent())
      .toContain('"repsCompleted": 1')
    await runner.close()

    await expect.poll(() => vp0.locator('td[data-vtl="1"]').textContent()).toBe('enabled')
    await expect.poll(() => vp0.locator('td[data-vtl="0"]').textContent()).toBe('active')
    await expect.poll(() => vp0.locator('td').last().textContent()).toBe('VTL1→VTL0 VTL_CALL (2)')
    expect(await vp0.getAttribute('title')).toContain('VP 0 runs in VTL0; VTL1 enabled')
  })

  it('shows the page VTL1 protected in the GPA map, with a hover that names its state', async () => {
    const page10 = page.locator('.map-svg rect.run[data-lane="1"][data-start="0x10000"]')
    await expect.poll(() => page10.count()).toBe(1)
    expect(await page10.locator('title').textContent()).toBe('0x10000–0x11000 (4KiB): VTL0 R')
    await page10.hover()
    await expect
      .poll(() => page.getByTestId('map-readout').textContent())
      .toBe(
        '0x10000–0x11000 (4KiB): private (accepted); VTL0 R; VTL1 R W KX UX; not locked, no overlay'
      )
    // Keyboard: the run is a focus stop; Enter zooms into it.
    await page.locator('.map-svg rect.run[data-lane="0"][data-start="0x10000"]').focus()
    await page.keyboard.press('Enter')
    await expect
      .poll(() =>
        page.locator('#map-title + .toolbar + .memory-map svg text').first().textContent()
      )
      .toMatch(/0x8000 \+ 64KiB/)
    await page.getByRole('button', { name: 'Whole RAM' }).click()
  })

  it('lists the failed hypercall in the log, and filters to it', async () => {
    const failed = page.locator('table.log tr.failed')
    await expect.poll(() => failed.count()).toBeGreaterThan(0)
    expect(await failed.first().textContent()).toMatch(
      /VP 0 · VTL0EnablePartitionVtl \(0x000d\)✗ InvalidVtlState—[\d,]+$/
    )
    await page.getByLabel('Outcome').selectOption('failed')
    await expect.poll(() => page.locator('table.log tbody tr').count()).toBe(1)
    await page.getByLabel('Outcome').selectOption('all')
  })

  it('exports the trace as Perfetto JSON', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download trace (Perfetto JSON)' }).click(),
    ])
    expect(download.suggestedFilename()).toBe('e2e.trace.json')
    const trace = JSON.parse(readFileSync(await download.path(), 'utf8')) as {
      traceEvents: { name: string; ph: string }[]
    }
    expect(trace.traceEvents.some((e) => e.name === 'ModifyVtlProtectionMask')).toBe(true)
    expect(trace.traceEvents.some((e) => e.name.startsWith('VTL0->VTL1'))).toBe(true)
  })

  it('charts the daemon’s counters and runs a scenario file on a fresh TD', async () => {
    await page.getByRole('link', { name: 'Metrics' }).click()
    await expect
      .poll(() => page.locator('.bars li', { hasText: 'InvalidVtlState' }).count())
      .toBe(1)
    await expect
      .poll(() => page.locator('figcaption').first().textContent())
      .toMatch(/^VTL switches: /)
    expect(await page.locator('.bars li', { hasText: 'TDG.VP.WR' }).count()).toBe(1)

    await page.getByRole('link', { name: 'Scenarios' }).click()
    await page.getByLabel('Run on').selectOption('')
    await page.getByRole('button', { name: 'Run' }).click()
    await expect
      .poll(() => page.getByTestId('scenario-summary').textContent())
      .toBe('enable-vtl1: 7 passed, 0 failed')
    // A wrong expectation shows up as a mismatch on its step.
    const text = await page.getByLabel('Scenario (YAML or JSON)').inputValue()
    await page
      .getByLabel('Scenario (YAML or JSON)')
      .fill(text.replace('status: InvalidVtlState', 'status: Success'))
    await page.getByRole('button', { name: 'Run' }).click()
    await expect
      .poll(() => page.getByTestId('scenario-summary').textContent())
      .toBe('enable-vtl1: 6 passed, 1 failed')
    await page.getByRole('button', { name: /^6\. VP0 VTL0 hypercall ✗/ }).click()
    expect(await page.locator('table.mismatches tbody').textContent()).toBe(
      'status"Success""InvalidVtlState"'
    )
    await page.goBack()
    await page.goBack()
    // Back on the TD: the stream replays what happened, the log and the grid fill again.
    await expect.poll(() => page.locator('table.log tbody tr').count()).toBe(7)
    await expect
      .poll(() => page.locator('table.vp-grid tr[data-vp="0"] td').last().textContent())
      .toBe('VTL1→VTL0 VTL_CALL (2)')
  })

  it('takes the README picture at 1280×720 and stays usable on a narrow window', async () => {
    // The README's picture is rewritten on request only (it changes with every run's ids).
    const picture = await page.screenshot({
      fullPage: true,
      ...(process.env.VTL_UPDATE_SCREENSHOT === '1'
        ? { path: join(import.meta.dirname, '..', 'docs', 'console.png') }
        : {}),
    })
    expect(picture.subarray(1, 4).toString()).toBe('PNG')
    await page.setViewportSize({ width: 420, height: 800 })
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth)
    expect(overflow).toBeLessThanOrEqual(0)
    // Keyboard from the top of a fresh load: the first stop skips to the content.
    await page.reload()
    await expect.poll(() => page.locator('table.vp-grid tr[data-vp="1"]').count()).toBe(1)
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content')
    // The grid's cells move with the arrow keys.
    await page.locator('table.vp-grid thead th').first().focus()
    await page.keyboard.press('ArrowDown')
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('VP 0')
    await page.keyboard.press('ArrowRight')
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('active')
    await page.setViewportSize({ width: 1280, height: 720 })
  })

  it('refuses a state change from another Origin (403), a foreign Host (403) and no cookie (401)', async () => {
    const [cookie] = await context.cookies()
    const headers = {
      cookie: `${cookie?.name ?? ''}=${cookie?.value ?? ''}`,
      'content-type': 'application/json',
    }
    const body = JSON.stringify({ vps: 1, memory: '4MiB' })
    const post = (extra: Record<string, string>) =>
      fetch(`${origin}/v1/tds`, { method: 'POST', headers: { ...headers, ...extra }, body })
    expect((await post({ origin: 'http://evil.example' })).status).toBe(403)
    expect((await post({ origin })).status).toBe(201)
    // In the browser: a page of another origin (localhost, not 127.0.0.1) gets nothing.
    const foreign = await context.newPage()
    const answer = await foreign.goto(`${origin.replace('127.0.0.1', 'localhost')}/ui/`)
    expect(answer?.status()).toBe(403)
    const status = await page.evaluate(async () => {
      const r = await fetch('/v1/tds', { credentials: 'omit' })
      return r.status
    })
    expect(status).toBe(401)
    await foreign.close()
  })
})
