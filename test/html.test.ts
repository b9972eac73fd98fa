import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runBench } from '../src/harness/bench.js';

// The bench HTML page, opened in a real (headless) Chromium. .ci/run installs
// Debian's chromium; without it this test cannot run and says so.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);

describe.skipIf(!haveChromium)('bench HTML renders in headless Chromium', () => {
  it('shows every chart with drawn series and the points table, without errors', async () => {
    const { chromium } = await import('playwright-core');
    const dir = mkdtempSync(path.join(tmpdir(), 'mmt-html-'));
    const html = path.join(dir, 'bench.html');
    await runBench({
      workloads: ['page-fault'], threads: [1, 2], modes: ['per-vma', 'mmap-lock'], eras: [1],
      durationMs: 300, repeat: 1, writerRate: 1000, seed: 3, check: true, html,
    }, { out: () => undefined, err: () => undefined, isTTY: false });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto('file://' + html);
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
