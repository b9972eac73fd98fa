import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
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
      expect(charts).toHaveLength(3);
      for (const c of charts) {
        expect(c.w).toBeGreaterThan(400);
        expect(c.h).toBeGreaterThan(200);
      }
      // Throughput: one line per mode, two points each.
      expect(charts[0].lines).toBe(2);
      expect(charts[0].dots).toBe(4);
      expect(await page.$$eval('#points tbody tr', (r) => r.length)).toBe(4);
      const png = path.join(dir, 'bench.png');
      await page.screenshot({ path: png, fullPage: true });
      expect(statSync(png).size).toBeGreaterThan(10_000);
      expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
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
      expect(v[0]).toMatch(/events before the report \(all threads, last \d+\):/);
      expect(v[0]).toMatch(/rerun: mmtorture run fault-vs-mprotect/);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 90_000);
});
