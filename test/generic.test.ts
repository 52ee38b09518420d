import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { githubToken, hex, randomString } from './helpers/secrets.js';
import { randomLooking } from '../src/engine/validators/generic.js';
import { charsetOf, randomLookingThreshold, shannonEntropy } from '../src/engine/entropy.js';

interface JsonFinding {
  ruleId: string;
  confidence: string;
  locations: { path: string; line: number }[];
}

function scan(dir: string, ...extra: string[]): JsonFinding[] {
  const r = runCli(['dir', dir, '-f', 'json', '-q', '--no-ignore', ...extra]);
  expect([0, 1], r.stderr).toContain(r.code);
  return (JSON.parse(r.stdout) as { findings: JsonFinding[] }).findings;
}

/** Files in `dir`: path -> content. */
function write(dir: string, files: Record<string, string>): void {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

describe('generic secrets through the CLI', () => {
  const t = tempDir();
  // one random value per syntax, so each finding names its file
  const cases: [string, (v: string) => string][] = [
    ['app.js', (v) => `const authToken = '${v}';\n`],
    ['client.ts', (v) => `const dbPassword: string = "${v}";\n`],
    ['settings.py', (v) => `SECRET_KEY = "${v}"\n`],
    ['main.go', (v) => `var apiKey string = "${v}"\n`],
    ['Config.java', (v) => `private static final String CLIENT_SECRET = "${v}";\n`],
    ['Settings.cs', (v) => `public const string ApiKey = @"${v}";\n`],
    ['config.rb', (v) => `Api::Client.new(:access_key => "${v}")\n`],
    ['config.php', (v) => `<?php\n$config['db_pass'] = '${v}';\n`],
    ['values.yaml', (v) => `db:\n  password: ${v}\n`],
    ['config.json', (v) => `{"service": "orders", "client_secret": "${v}"}\n`],
    ['.env', (v) => `SMTP_PASSWORD=${v}\n`],
    ['web.xml', (v) => `<config>\n  <apiToken>${v}</apiToken>\n</config>\n`],
    ['web.config', (v) => `<appSettings>\n  <add key="PaymentApiKey" value="${v}" />\n</appSettings>\n`],
    ['application.properties', (v) => `spring.datasource.password=${v}\n`],
    ['main.tf', (v) => `module "db" {\n  admin_password = "${v}"\n}\n`],
    ['deploy.sh', (v) => `export API_TOKEN="${v}"\n`],
    ['register.sh', (v) => `./agent register --token ${v} --name ci\n`],
    ['migrate.sh', (v) => `migrate --credentials=${v} up\n`],
    ['backup.sh', (v) => `mysqldump -u backup -p${v} orders > orders.sql\n`],
  ];
  const values = cases.map(() => randomString(24));
  let findings: JsonFinding[] = [];

  beforeAll(() => {
    write(t.dir, Object.fromEntries(cases.map(([name, f], i) => [`src/${name}`, f(values[i]!)])));
    findings = scan(t.dir);
  });
  afterAll(() => t.cleanup());

  for (const [name] of cases) {
    it(`finds a random value under a secret-named key in ${name}, at low confidence`, () => {
      const f = findings.filter((x) => x.locations.some((l) => l.path === `src/${name}`));
      expect(f.map((x) => x.ruleId)).toHaveLength(1);
      expect(f[0]!.ruleId).toMatch(/^generic-/);
      expect(f[0]!.confidence).toBe('low');
    });
  }

  it('shows generic findings as low confidence in the text report', () => {
    const r = runCli(['dir', join(t.dir, 'src', '.env'), '--no-ignore']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\[generic-secret-assignment\] low confidence/);
    expect(r.stdout).not.toContain(values[cases.findIndex(([n]) => n === '.env')]!);
  });
});

describe('generic rules stay quiet on look-alikes', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it('reports nothing for placeholders, references, hashes, UUIDs, public keys, media and minified code', () => {
    write(t.dir, {
      '.env.example': ['DB_PASSWORD=${DB_PASSWORD}', 'API_TOKEN=<your-api-token>', 'SESSION_SECRET=changeme', 'CLIENT_SECRET=dummy-client-secret-value', 'AUTH_TOKEN=xxxxxxxxxxxxxxxxxxxxxxxx', ''].join('\n'),
      'templates/secret.yaml': ['stringData:', '  password: {{ .Values.db.password }}', '  token: "{{ .Values.token }}"', ''].join('\n'),
      'src/config.js': ['export const c = {', '  apiKey: process.env.API_KEY,', '  token: localStorage.getItem("token"),', '  secret: this.config.secretValue,', '};', ''].join('\n'),
      'src/auth.py': ['api_key: Optional[str] = None', 'password_hash = bcrypt.hashpw(password.encode(), salt)', 'tokenizer = AutoTokenizer.from_pretrained("bert-base-cased")', ''].join('\n'),
      'package-lock.json': `{"packages": {"node_modules/token-utils": {"integrity": "sha512-${randomString(86, B64)}=="}}}\n`,
      'ids.json': `{"request_token": "${hex(4)}-${hex(2)}-4${hex(2).slice(1)}-a${hex(2).slice(1)}-${hex(6)}", "commit": "${hex(20)}"}\n`,
      'auth.yaml': `public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5${randomString(43, B64)} ops@bastion"\n`,
      'logo.css': `.auth-token-icon { background: url("data:image/png;base64,${randomString(400, B64)}"); }\n`,
      'app.min.js': `!function(){var a=function(e,t){return e.token=t.apiKey||"",e.secret=n.k}}();\n`,
      'k8s/deploy.yaml': ['env:', '  - name: DB_PASSWORD', '    valueFrom:', '      secretKeyRef:', '        name: orders-db-credentials', '        key: password', ''].join('\n'),
    });
    expect(scan(t.dir)).toEqual([]);
  });

  it('honours inline allow comments of leakhound and of other scanners', () => {
    const d = join(t.dir, 'allow');
    write(d, {
      'a.env': `DB_PASSWORD=${randomString(24)} # leakhound:allow\n`,
      'b.py': `API_KEY = "${randomString(24)}"  # pragma: allowlist secret\n`,
      'c.js': `const token = "${randomString(24)}"; // gitleaks:allow\n`,
      'd.sh': `export AUTH_TOKEN=${randomString(24)} # trufflehog:ignore\n`,
      'e.env': `OTHER_PASSWORD=${randomString(24)}\n`,
    });
    const f = scan(d);
    expect(f.map((x) => x.locations[0]!.path)).toEqual(['e.env']);
  });

  it('leaves a provider token to its provider rule (one finding, not two)', () => {
    const d = join(t.dir, 'provider');
    write(d, { 'ci.env': `API_TOKEN=${githubToken()}\n`, 'k8s.yaml': `kind: Secret\ndata:\n  token: ${Buffer.from(githubToken()).toString('base64')}\n` });
    const f = scan(d);
    expect(f.map((x) => x.ruleId).sort()).toEqual(['github-pat-classic', 'github-pat-classic']);
  });
});

describe('random-looking validator', () => {
  it('accepts random values of every charset at the lengths secrets have (>= 98%)', () => {
    const kinds: [string, () => string][] = [
      ['hex 32', () => hex(16)],
      ['hex 16', () => hex(8)],
      ['alnum 20', () => randomString(20)],
      ['base64 32', () => randomString(32, B64)],
    ];
    for (const [name, gen] of kinds) {
      let ok = 0;
      for (let i = 0; i < 500; i++) if (randomLooking(gen())) ok++;
      expect(ok / 500, name).toBeGreaterThanOrEqual(0.98);
    }
  });

  it('rejects names, references, paths, UUIDs, hashes with a scheme and prose', () => {
    for (const v of ['Optional', 'authService', 'getApiToken2', 'AuthenticationService', 'my-app-db-credentials', 'TOKEN_TYPE_BEARER', 'self._token', 'config.apiKey', 'https://auth.internal/token', '/etc/ssl/server.key', 'server.pem', '550e8400-e29b-41d4-a716-446655440000', 'sha512-Zm9vYmFyYmF6cXV4', 'Api-Token', 'vault:secret/data/app', 'the token is here now', '12345678901', '/var/run/secrets/kubernetes.io/serviceaccount/token', '~/secrets/db.txt']) {
      expect(randomLooking(v), v).toBe(false);
    }
  });

  it('sets entropy thresholds by charset: short hex passes at a lower bar than base64', () => {
    expect(charsetOf('deadbeef0123')).toBe('hex');
    expect(charsetOf('Zx9Kq2Lm')).toBe('alnum');
    expect(charsetOf('a+b/c=')).toBe('base64');
    expect(randomLookingThreshold(hex(16))).toBeLessThan(randomLookingThreshold(randomString(32, B64)));
    expect(shannonEntropy('aaaaaaaa')).toBe(0);
    expect(randomLooking('a1a1a1a1b2b2b2b2')).toBe(false);
  });
});
