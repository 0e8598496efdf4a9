import t from 'tap';
import { Capture } from '../runtime/capture/capture.js';
import { checkElements, elementsOf, listTemplates, loadTemplate, parseTemplate, renderTemplate } from '../runtime/capture/template.js';
import { createLogger } from '../runtime/log.js';
import { ROOT } from './helpers/daemon.js';

const dir = `${ROOT}pipelines`;

t.test('every template names its parameters and renders with them', async (t) => {
  const names = await listTemplates(dir);
  // The shipped ones; a site's own template in the folder is checked below like these.
  for (const n of ['file-replay', 'hdmi-v4l2', 'jetson-nvmm', 'still-live', 'test-source']) t.ok(names.includes(n), `${n} is shipped`);
  for (const name of names) {
    const tpl = await loadTemplate(dir, name);
    t.ok(tpl.description, `${name}: its header comment says what it captures`);
    for (const p of tpl.params) t.ok(p.description, `${name}: parameter ${p.name} is described`);
    const required = Object.fromEntries(tpl.params.filter((p) => p.default === undefined).map((p) => [p.name, 'x']));
    const line = renderTemplate(tpl, required, 'drop=true', { analysis: '' });
    t.match(line, /appsink name=sink drop=true/, `${name}: ends in the capture's appsink`);
    t.notMatch(line, /\{[a-z0-9_-]+\}/i, `${name}: every slot is filled`);
  }
  const v4l2 = await loadTemplate(dir, 'hdmi-v4l2');
  const line = renderTemplate(v4l2, { device: '/dev/video3' }, 'drop=true');
  t.match(line, /v4l2src device=\/dev\/video3 /);
  t.match(line, /appsink name=sink drop=true/);
});

t.test('a missing parameter or an unknown template is named before anything starts', async (t) => {
  const replay = await loadTemplate(dir, 'file-replay');
  t.throws(() => renderTemplate(replay, {}, ''), { code: 'PIPELINE_PARAM', message: /needs parameter location/ });
  t.throws(() => renderTemplate(replay, { location: 'a" ! fakesink' }, ''), { code: 'PIPELINE_PARAM' });
  t.throws(() => renderTemplate(replay, { location: 'x', devcie: 'y' }, ''), /has no parameter devcie/);
  await t.rejects(loadTemplate(dir, 'hdmi'), {
    code: 'PIPELINE_TEMPLATE',
    message: `no pipeline template "hdmi" (known: ${(await listTemplates(dir)).join(', ')})`,
  });
});

t.test('an element this machine lacks is reported by name', async (t) => {
  t.same(elementsOf('v4l2src device=/dev/video0 ! video/x-raw,width=1 ! nvvidconv ! appsink name=sink'), ['v4l2src', 'nvvidconv', 'appsink']);
  const jetson = parseTemplate('j', 'nvv4l2camerasrc ! video/x-raw(memory:NVMM) ! nvvidconv ! appsink name=sink');
  t.throws(() => checkElements(renderTemplate(jetson, {}, '')), { code: 'PIPELINE_ELEMENT', message: /nvv4l2camerasrc, nvvidconv/ });
  await t.rejects(
    Capture.open({ pipelinesDir: dir, template: 'jetson-nvmm', params: {}, mode: 'live', loop: false, readyTimeoutMs: 5000 }, createLogger('t', 'silent')),
    { code: 'PIPELINE_ELEMENT' },
  );
});

t.test('the test source delivers RGBA frames of the asked size', async (t) => {
  const cap = await Capture.open(
    { pipelinesDir: dir, template: 'test-source', params: { width: '64', height: '48', fps: '30' }, mode: 'live', loop: false, readyTimeoutMs: 20000 },
    createLogger('t', 'silent'),
  );
  t.teardown(() => cap.close());
  const a = await cap.next();
  const b = await cap.next();
  t.equal(a!.width, 64);
  t.equal(a!.height, 48);
  t.equal(a!.data.length, 64 * 48 * 4);
  t.ok(b!.id > a!.id, 'frame ids increase');
});

t.test('a v4l2 device that is absent fails with the GStreamer reason', async (t) => {
  await t.rejects(
    Capture.open(
      { pipelinesDir: dir, template: 'hdmi-v4l2', params: { device: '/dev/video-absent' }, mode: 'live', loop: false, readyTimeoutMs: 20000 },
      createLogger('t', 'silent'),
    ),
    { message: /video-absent/ },
  );
});
