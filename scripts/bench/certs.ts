/**
 * A throw-away CA and a leaf certificate for api.weixin.qq.com, 127.0.0.1 and localhost, made with
 * the openssl CLI in a folder the caller deletes: the HTTPS WeChat stub of the benchmark and the
 * profiler presents the leaf, the apps trust the CA.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type KeyType = 'ec' | 'rsa';

export function makeCertificates(dir: string, key: KeyType): { ca: string; key: string; cert: string } {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const newKey = key === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  openssl('req', '-x509', ...newKey, '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=passport-wechat-oauth2 bench CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', ...newKey, '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=api.weixin.qq.com');
  writeFileSync(join(dir, 'leaf.ext'), [
    'subjectAltName=DNS:api.weixin.qq.com,DNS:localhost,IP:127.0.0.1',
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
  ].join('\n'));
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.crt', '-days', '2', '-extfile', 'leaf.ext');
  return { ca: join(dir, 'ca.crt'), key: join(dir, 'leaf.key'), cert: join(dir, 'leaf.crt') };
}

