import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, tempDir } from './daemon.js';

const execFileP = promisify(execFile);

/**
 * Throwaway Debian 12 roots for package tests. The base root is made once with mmdebstrap from
 * Debian's archive (the GStreamer runtime, the allocator the unit preloads, systemd for
 * sysusers/tmpfiles, python3 and ca-certificates for nodejs) and kept as a tarball under
 * var/cache/deb-root, named for its package list so that a changed list makes a new one; each test unpacks
 * its own copy. Debian 12's nodejs is 18, below the engines field: a site installs NodeSource's
 * nodejs 20 (docs/fleet.md). The test root gets the same package by repacking the nodejs that
 * this machine has installed (NodeSource's, ≥ 20), since tests reach no repository but Debian's.
 */
export const CACHE = join(ROOT, 'var', 'cache', 'deb-root');
const SUITE = 'bookworm';
const BASE_PACKAGES = [
  'gstreamer1.0-plugins-base',
  'gstreamer1.0-plugins-good',
  'libgstreamer1.0-0',
  'libgstreamer-plugins-base1.0-0',
  'libjemalloc2',
  'systemd',
  'python3',
  'ca-certificates',
];

export async function sh(cmd: string, args: string[], opts: { timeout?: number; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeout ?? 600_000);
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), out });
    });
  });
}

async function must(cmd: string, args: string[], what: string): Promise<string> {
  const r = await sh(cmd, args);
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.out.slice(-3000)}`);
  return r.out;
}

/** The base root tarball, made on first use (minutes: it downloads from Debian's archive). */
export async function baseTarball(): Promise<string> {
  const list = createHash('sha256').update(BASE_PACKAGES.join(',')).digest('hex').slice(0, 8);
  const tar = join(CACHE, `${SUITE}-base-${list}.tar`);
  if (existsSync(tar)) return tar;
  mkdirSync(CACHE, { recursive: true });
  // mmdebstrap picks its output format from the name, and `.partial` would make a directory.
  const partial = `${tar}.partial`;
  await must(
    'mmdebstrap',
    ['--variant=apt', '--format=tar', `--include=${BASE_PACKAGES.join(',')}`, SUITE, partial, '/etc/apt/sources.list.d/debian.sources'],
    'mmdebstrap',
  );
  renameSync(partial, tar);
  return tar;
}

/** This machine's nodejs package, rebuilt as a .deb from its installed files (dpkg-repack's job). */
export async function nodejsDeb(): Promise<string> {
  const fields = ['Package', 'Version', 'Architecture', 'Maintainer', 'Depends', 'Provides', 'Conflicts', 'Replaces', 'Description'];
  const { stdout } = await execFileP('dpkg-query', ['-W', '-f', fields.map((f) => `${f}: \${${f}}\\n`).join(''), 'nodejs']);
  const version = /^Version: (.+)$/m.exec(stdout)?.[1];
  if (!version || !/^Maintainer: NodeSource/m.test(stdout)) throw new Error("the test root needs NodeSource's nodejs (>= 20) installed on this machine");
  const deb = join(CACHE, `nodejs_${version.replace(/[^A-Za-z0-9.+~-]/g, '_')}.deb`);
  if (existsSync(deb)) return deb;
  mkdirSync(CACHE, { recursive: true });
  const stage = tempDir('lumen-nodejs-');
  const list = join(stage, '.files');
  const { stdout: files } = await execFileP('dpkg-query', ['-L', 'nodejs'], { maxBuffer: 64 * 2 ** 20 });
  writeFileSync(
    list,
    files
      .split('\n')
      .filter((f) => f.startsWith('/') && f !== '/.')
      .map((f) => f.slice(1))
      .join('\n') + '\n',
  );
  await must('sh', ['-c', `tar --no-recursion -C / -cf - -T '${list}' | tar -C '${stage}' -xf -`], 'copying the installed nodejs files');
  rmSync(list);
  mkdirSync(join(stage, 'DEBIAN'));
  writeFileSync(
    join(stage, 'DEBIAN/control'),
    stdout
      .split('\n')
      .filter((l) => !/^\w+: $/.test(l))
      .join('\n')
      .replace(/\n*$/, '\n'),
  );
  await must('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z1', '--build', stage, `${deb}.partial`], 'dpkg-deb (nodejs)');
  renameSync(`${deb}.partial`, deb);
  rmSync(stage, { recursive: true, force: true });
  return deb;
}

/** A fresh root: the base unpacked, nodejs installed. The caller removes it (see `removeRoot`). */
export async function freshRoot(): Promise<string> {
  const [tar, node] = await Promise.all([baseTarball(), nodejsDeb()]);
  const dir = tempDir('lumen-debroot-');
  await must('tar', ['-xf', tar, '-C', dir], 'unpacking the base root');
  await must('cp', [node, join(dir, 'tmp/nodejs.deb')], 'copying nodejs in');
  await must(...inRoot(dir, 'dpkg -i /tmp/nodejs.deb && rm /tmp/nodejs.deb'), 'installing nodejs in the root');
  return dir;
}

/**
 * A command line that runs `script` chrooted into `dir`, in its own mount namespace with /proc,
 * /dev and /sys mounted: the mounts vanish with the process, whatever happens to the test.
 */
export function inRoot(dir: string, script: string): [string, string[]] {
  const setup = [
    `mount -t proc proc '${dir}/proc'`,
    `mount --rbind /dev '${dir}/dev'`,
    `mount --rbind /sys '${dir}/sys'`,
    `exec chroot '${dir}' /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive /bin/sh -c "$0"`,
  ].join(' && ');
  return ['unshare', ['--mount', '--propagation', 'private', '--fork', '/bin/sh', '-c', setup, script]];
}

export async function runInRoot(dir: string, script: string, timeout = 300_000): Promise<{ code: number; out: string }> {
  const [cmd, args] = inRoot(dir, script);
  return sh(cmd, args, { timeout });
}

export function removeRoot(dir: string): void {
  // Nothing is mounted here outside the namespaces above; a plain recursive delete is safe.
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The same package under another version (a later release with unchanged files): quicker than a
 * third build. Returns the new .deb, beside `deb`.
 */
export async function withVersion(deb: string, version: string): Promise<string> {
  const scratch = tempDir('lumen-repack-');
  const tree = join(scratch, 'tree');
  try {
    await must('dpkg-deb', ['-R', deb, tree], 'dpkg-deb -R');
    const control = join(tree, 'DEBIAN/control');
    writeFileSync(control, readFileSync(control, 'utf8').replace(/^Version: .*$/m, `Version: ${version}`));
    const out = deb.replace(/_[^_]+_([^_]+\.deb)$/, `_${version}_$1`);
    await must('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z1', '--build', tree, out], 'dpkg-deb --build');
    return out;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
