import { basename } from 'node:path';
import type { Verdict } from './baseline.js';
import type { ReplayResult } from './replay.js';
import { escapeXml } from './svg-plots.js';

/**
 * junit.xml for CI: one testsuite per replay, one testcase per baseline metric, a <failure>
 * naming the metric, its value and the expectation when it regressed. No times: the file is
 * the same run to run. Without a baseline the suite has no testcases.
 */
export function junitXml(r: ReplayResult, verdict: Verdict | null): string {
  const checks = verdict?.checks ?? [];
  const failures = checks.filter((c) => !c.passed).length;
  const suite = `qa replay ${basename(r.source.path)}`;
  const cls = `lumen.qa.${basename(r.source.path).replace(/[^A-Za-z0-9_-]+/g, '_')}`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="lumen replay" tests="${checks.length}" failures="${failures}" errors="0">`,
    `  <testsuite name="${escapeXml(suite)}" tests="${checks.length}" failures="${failures}" errors="0" skipped="0">`,
    '    <properties>',
    `      <property name="feed" value="${escapeXml(r.source.path)}"/>`,
    `      <property name="truth" value="${escapeXml(r.source.truth)}"/>`,
    `      <property name="baseline" value="${escapeXml(verdict?.baseline ?? '')}"/>`,
    `      <property name="classifier" value="${escapeXml(`${r.settings.models.classifier.id}@${r.settings.models.classifier.version}`)}"/>`,
    `      <property name="segmenter" value="${escapeXml(`${r.settings.models.segmenter.id}@${r.settings.models.segmenter.version}`)}"/>`,
    '    </properties>',
  ];
  for (const c of checks) {
    if (c.passed) {
      lines.push(`    <testcase classname="${escapeXml(cls)}" name="${escapeXml(c.metric)}"/>`);
      continue;
    }
    lines.push(`    <testcase classname="${escapeXml(cls)}" name="${escapeXml(c.metric)}">`);
    lines.push(
      `      <failure type="regression" message="${escapeXml(c.message)}">${escapeXml(`${c.metric} = ${c.actual ?? 'null'}; expected ${JSON.stringify(c.expected)}`)}</failure>`,
    );
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
