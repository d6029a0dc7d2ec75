// The policy officer's dashboard in a real browser: the demo policy officer opens /politica,
// filters by indicator and borough with the plain GET form, sees the borough marked in the
// coverage table and the figures by program for it, and downloads both the coverage CSV and
// the figures-by-program CSV through their links.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { launch, signInAs } = require('./browser.cjs');
const { seriousViolations } = require('./a11y.cjs');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

/// Clicks a download link and returns the downloaded file's name and text.
async function download(page, link) {
  const [file] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const path = await file.path();
  return { name: file.suggestedFilename(), text: fs.readFileSync(path, 'utf8') };
}

test('a policy officer filters the dashboard by indicator and borough and downloads the CSV', async () => {
  const errors = [];
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  await signInAs(page, 'demo.politica', '/politica');
  assert.equal(await page.locator('svg[aria-labelledby="coverage-map-title"] path.area').count(), 16, 'the map');

  await page.selectOption('#f-indicador', 'single_mothers');
  await page.selectOption('#f-alcaldia', '09007');
  await Promise.all([
    page.waitForURL(/indicador=single_mothers.*alcaldia=09007/),
    page.click('form.filters button[type="submit"]'),
  ]);
  await page.waitForLoadState('load');
  assert.equal(await page.locator('#f-indicador').inputValue(), 'single_mothers');
  assert.equal(await page.locator('#f-alcaldia').inputValue(), '09007');
  assert.equal(await page.locator('#coverage-table tr.chosen').getAttribute('data-code'), '09007', 'the borough is marked');
  assert.match(await page.locator('#figures-title').innerText(), /Iztapalapa/);
  assert.equal(await page.locator('#trend-table tr[data-program="MADSOL"]').count(), 1, 'a row per program');
  assert.deepEqual(await seriousViolations(page), [], 'axe: the dashboard');

  const coverage = await download(page, page.locator('a[href^="/politica/cobertura.csv"]'));
  assert.match(coverage.name, /^cobertura-single_mothers/);
  const lines = coverage.text.trim().split('\n');
  assert.equal(lines[0], 'indicator,year,inegi_code,borough,people_reached,target_population,per_thousand,target_synthetic,target_source');
  assert.equal(lines.length, 1 + 16 + 1, 'header, 16 boroughs, the city');
  assert.ok(lines.some((l) => l.startsWith('single_mothers,') && l.includes(',09007,Iztapalapa,')));

  const programs = await download(page, page.locator('a[href="/politica/programas.csv?alcaldia=09007"]'));
  assert.equal(programs.name, 'programas-09007.csv');
  const rows = programs.text.trim().split('\n');
  assert.match(rows[0], /^inegi_code,program,agency,reached_today,/);
  assert.ok(rows.slice(1).every((r) => r.startsWith('09007,')), 'only the chosen borough');
  assert.ok(rows.some((r) => r.startsWith('09007,MADSOL,DIF,')));
  assert.deepEqual(errors, []);
  await context.close();
});
