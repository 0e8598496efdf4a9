import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LumenError, messageOf } from '../errors.js';
import type { Verdict } from './baseline.js';
import { junitXml } from './junit.js';
import type { ReplayResult } from './replay.js';
import { reportHtml } from './report-html.js';
import { reportJson } from './report-json.js';

export interface ReportFiles {
  json: string;
  junit: string;
  html: string;
}

/** Writes report.json, junit.xml and report.html into `dir` (created if missing). */
export async function writeReports(dir: string, r: ReplayResult, verdict: Verdict | null): Promise<ReportFiles> {
  const files = { json: join(dir, 'report.json'), junit: join(dir, 'junit.xml'), html: join(dir, 'report.html') };
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(files.json, reportJson(r, verdict));
    await writeFile(files.junit, junitXml(r, verdict));
    await writeFile(files.html, reportHtml(r, verdict));
  } catch (err) {
    throw new LumenError('USAGE', `--report ${dir}: cannot write the report (${messageOf(err)})`, { path: dir });
  }
  return files;
}
