import { describe, it, expect } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runBench } from '../src/harness/bench.js';
import { runCli } from './helpers/cli.js';

// The bench HTML page, opened in a real (headless) Chromium. .ci/run installs
// Debian's chromium and sets CI: there a missing browser fails the suite;
// on a developer's machine without one the browser tests are skipped.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);

describe.runIf(!!process.env.CI)('CI has a browser', () => {
  it(`Chromium is installed at ${CHROMIUM}`, () => {
    expect(haveChromium).toBe(true);
  });
});

async function launch() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Screenshots land here under stable names, for a person to look at after a run. */
const SHOTS = path.join(tmpdir(), 'mmtorture-screens');
mkdirSync(SHOTS, { recursive: true });

async function shoot(page: { screenshot: (o: { path: string; fullPage: boolean }) => Promise<unknown> }, name: string): Promise<void> {
  const png = path.join(SHOTS, name);
  await page.screenshot({ path: png, fullPage: true });
  expect(statSync(png).size).toBeGreaterThan(10_000);
  expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
}

/** Open a file in a new page, collecting page errors and console errors. */
async function open(browser: Awaited<ReturnType<typeof launch>>, file: string) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto('file://' + file);
  return { page, errors };
}

describe.skipIf(!haveChromium)('bench HTML renders in headless Chromium', () => {
  it('shows every chart with drawn series and the points table, without errors', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mmt-html-'));
    const html = path.join(dir, 'bench.html');
    await runBench({
      workloads: ['page-fault'], threads: [1, 2], modes: ['per-vma', 'mmap-lock'], eras: [1],
      durationMs: 300, repeat: 1, writerRate: 1000, seed: 3, check: true, html,
    }, { out: () => undefined, err: () => undefined, isTTY: false });
    const browser = await launch();
    try {
      const { page, errors } = await open(browser, html);
      expect(await page.title()).toMatch(/^mmtorture bench \d{4}-\d\d-\d\d$/);
      const charts = await page.$$eval('svg.chart', (els) => els.map((e) => {
        const r = e.getBoundingClientRect();
        return { w: r.width, h: r.height, lines: e.querySelectorAll('polyline').length, dots: e.querySelectorAll('circle').length, title: e.getAttribute('aria-label') };
      }));
      // The page opens with the per-VMA / mmap_lock ratio, the machine in its title; then throughput, fallback, wait against hold p99, wake-up latency.
      expect(charts).toHaveLength(5);
      expect(charts[0].title).toBe('per-VMA / mmap_lock throughput');
      expect(await page.textContent('h1')).toMatch(/^mmtorture bench — \d+ cores, .*, Node v\d+/);
      for (const c of charts) {
        expect(c.w).toBeGreaterThan(400);
        expect(c.h).toBeGreaterThan(200);
      }
      // The ratio: one series (page-fault E1), a point per thread count.
      expect(charts[0].lines).toBe(1);
      expect(charts[0].dots).toBe(2);
      // Throughput: one line per mode, two points each, with min-max bars.
      expect(charts[1].lines).toBe(2);
      expect(charts[1].dots).toBe(4);
      // Round y ticks only (1, 2 or 5 times a power of ten).
      const ticks = await page.$$eval('svg.chart', (els) => els.map((e) => [...e.querySelectorAll('text.tick')].map((t) => t.textContent ?? '')));
      for (const t of ticks[1].filter((x) => /[kM]$/.test(x))) expect(t).toMatch(/^(\d+|\d+\.[05])?[kM]$|^0$/);
      // The fallback chart is in percent.
      expect(ticks[2].some((t) => t.endsWith('%'))).toBe(true);
      const head = await page.$$eval('#points thead th', (th) => th.map((x) => x.textContent));
      expect(head).toEqual(expect.arrayContaining(['mmap_lock wait p99 µs', 'mmap_lock write-hold p99 µs', 'mmap_lock wake-up p50 / p99 µs', 'vm_lock wait p99 µs', 'per-VMA / mmap_lock']));
      // The wait/hold chart has a series per mode and percentile kind (wait, hold) where samples exist.
      expect(charts[3].title).toBe('page-fault: mmap_lock wait p99 against its write-hold p99');
      expect(charts[3].lines).toBeGreaterThanOrEqual(1);
      expect(await page.$$eval('#points tbody tr', (r) => r.length)).toBe(4);
      await shoot(page, 'bench.png');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 90_000);
});

describe.skipIf(!haveChromium)('report HTML renders in headless Chromium', () => {
  it('shows the stats-over-time charts, the scenario table and each violation with its event tail', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mmt-html-'));
    const log = path.join(dir, 'soak.jsonl');
    const html = path.join(dir, 'report.html');
    // A soak whose first turn hits B2 and whose second is clean (--keep-going).
    const s = runCli(['soak', 'fault-vs-mprotect', 'rcu-torture', '--bug', 'B2', '--keep-going', '--threads', '2', '--duration', '3s', '--segment', '1500ms',
      '--stat-interval', '250ms', '--era', 'e1', '--seed', '4', '--log', log]);
    expect(s.code).toBe(1);
    const r = runCli(['report', log, '--html', html]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('status: FAILURE (exit 1)');
    expect(r.out).toMatch(/kernel BUG: vma_mark_attached\(\) on an attached VMA/);
    const browser = await launch();
    try {
      const { page, errors } = await open(browser, html);
      expect(await page.title()).toMatch(/^mmtorture report \d{4}-\d\d-\d\dT/);
      const charts = await page.$$eval('svg.chart', (els) => els.map((e) => ({ w: e.getBoundingClientRect().width, lines: e.querySelectorAll('polyline').length, label: e.getAttribute('aria-label') })));
      expect(charts.map((c) => c.label)).toEqual(['throughput over time', 'memory over time']);
      for (const c of charts) {
        expect(c.w).toBeGreaterThan(400);
        expect(c.lines).toBeGreaterThanOrEqual(1);
      }
      expect(await page.$$eval('#scenarios tbody tr', (rows) => rows.map((x) => x.querySelector('td')?.textContent))).toEqual(['fault-vs-mprotect (E1)', 'rcu-torture']);
      expect(await page.textContent('#status')).toMatch(/^FAILURE \(exit 1\)/);
      const v = await page.$$eval('section.violation pre', (els) => els.map((e) => e.textContent ?? ''));
      expect(v.length).toBeGreaterThan(0);
      expect(v[0]).toMatch(/events before the report \(\d+ that touched .*vma#\d+.* from every thread, marked \*, and the last of each thread\):/);
      expect(v[0]).toMatch(/threads: mmtorture\/0 \w+, mmtorture\/1 \w+/);
      expect(v[0]).toMatch(/rerun: mmtorture run fault-vs-mprotect/);
      // The swim lanes: a column per thread, the story's events highlighted, the violation last in its lane.
      const lanes = await page.$$eval('table.lanes', (ts) => ts.map((t) => ({
        heads: [...t.querySelectorAll('thead th')].map((h) => h.textContent ?? ''),
        marked: t.querySelectorAll('tr.mark').length,
        viol: t.querySelector('tr.viol td.ev')?.textContent ?? '',
      })));
      expect(lanes.length).toBeGreaterThan(0);
      expect(lanes[0].heads[0]).toBe('ms');
      expect(lanes[0].heads.length).toBeGreaterThanOrEqual(2);
      for (const h of lanes[0].heads.slice(1)) expect(h).toMatch(/^(T\d+ \w+|setup \/ main thread)$/);
      expect(lanes[0].marked).toBeGreaterThan(0);
      expect(lanes[0].viol).toMatch(/vma_mark_attached\(\) on an attached VMA/);
      await shoot(page, 'soak-report.png');
      // Each turn's later violations are folded under its first: the page stays readable.
      expect(await page.$$eval('section.violation', (x) => x.length)).toBeLessThanOrEqual(2);
      const first = await page.$('section.violation');
      await first!.screenshot({ path: path.join(SHOTS, 'soak-report-violation.png') });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 90_000);
});

describe.skipIf(!haveChromium)('run and fleet report pages render in headless Chromium', () => {
  it('a run report: throughput from the progress records, the race as swim lanes with the worker threads', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mmt-html-'));
    const log = path.join(dir, 'run.jsonl');
    const html = path.join(dir, 'run.html');
    const s = runCli(['run', 'fault-vs-munmap', '--bug', 'B1', '--threads', '3', '--seed', '1', '-d', '40s', '--log', log]);
    expect(s.code).toBe(1);
    expect(runCli(['report', log, '--html', html]).code).toBe(0);
    const browser = await launch();
    try {
      const { page, errors } = await open(browser, html);
      const lanes = await page.$$eval('table.lanes thead th', (th) => th.map((h) => h.textContent ?? ''));
      // One lane per thread in the logged story (each named with its role), plus setup / the main thread.
      const rec = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { phase?: string; story?: { tid: number; events: { tid: number }[] } }).find((r) => r.phase === 'violation' && r.story);
      expect(rec?.story).toBeTruthy();
      const tids = new Set([rec!.story!.tid, ...rec!.story!.events.map((e) => e.tid)]);
      expect(lanes.filter((h) => /^T\d+ \w+/.test(h)).length).toBe([...tids].filter((x) => x >= 0).length);
      expect(lanes.filter((h) => h !== 'ms').every((h) => /^T\d+ \w+/.test(h) || h === 'setup / main thread')).toBe(true);
      expect(await page.textContent('table.lanes tr.viol td.ev')).toMatch(/^(WARNING|BUG|kernel BUG): /);
      await shoot(page, 'run-report.png');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('a fleet report over two shard logs: both shards and hosts in the tables', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mmt-html-'));
    const common = ['rwsem-torture,seqcount-torture,rcu-torture', '--threads', '2', '--duration', '1.6s', '--segment', '800ms', '--seed', '9', '--keep-going'];
    expect(runCli(['soak', ...common, '--shard', '1/2', '--log', path.join(dir, 'logs', 'a.jsonl'), '--json', path.join(dir, 'a.json')]).code).toBe(0);
    expect(runCli(['soak', ...common, '--shard', '2/2', '--bug', 'seqcount-no-retry', '--log', path.join(dir, 'logs', 'b.jsonl'), '--json', path.join(dir, 'b.json')]).code).toBe(1);
    // The configurations the two shards ran (a loaded host may fit one turn per shard into 1.6 s, not two).
    const labels = new Set(['a.json', 'b.json'].flatMap((f) => (JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { segments: { label: string }[] }).segments.map((x) => x.label)));
    expect(labels.size).toBeGreaterThanOrEqual(2);
    const html = path.join(dir, 'fleet.html');
    expect(runCli(['report', path.join(dir, 'logs'), '--html', html]).code).toBe(0);
    const browser = await launch();
    try {
      const { page, errors } = await open(browser, html);
      expect(await page.$$eval('#logs tbody tr td:nth-child(2)', (td) => td.map((x) => x.textContent))).toEqual(['1/2', '2/2']);
      expect(await page.$$eval('#rows tbody tr', (r) => r.length)).toBe(labels.size);
      expect(await page.$$eval('section.violation', (x) => x.length)).toBeGreaterThan(0);
      await shoot(page, 'fleet-report.png');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
