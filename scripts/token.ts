/**
 * `npm run token -- <command>`: manage bearer tokens in the configured database.
 *
 *   mint --user alice [--name "alice laptop"]          a user token (acts only on alice's apps)
 *   mint --admin --name portal [--facilities demo,hpc]  an admin token, optionally limited
 *   mint ... --expires 30d                              stops working after 30 days (or 12h, 2w, 2027-01-31)
 *   list                                                tokens (never their secrets)
 *   revoke <id>                                         revoke a token
 *   generate                                            print a new random token for SRC_ADMIN_TOKEN
 *
 * The secret of a minted token is printed once; the database keeps only its hash.
 */
import { parseArgs } from 'node:util';
import * as v from 'valibot';
import { generateToken, listTokens, mintToken, parseExpiry, revokeToken } from '../core/auth.ts';
import { closeDb } from '../core/store.ts';
import { userSchema } from '../core/schemas.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    user: { type: 'string' },
    admin: { type: 'boolean', default: false },
    name: { type: 'string' },
    facilities: { type: 'string' },
    expires: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

function fail(msg: string): never {
  console.error(`token: ${msg}`);
  process.exit(2);
}

const [cmd, arg] = positionals;
try {
  switch (cmd) {
    case 'mint': {
      if (values.admin === !!values.user) fail('give either --admin or --user USER');
      if (values.user && !v.is(userSchema, values.user)) fail(`--user ${values.user}: not a valid user name`);
      const facilities = values.facilities?.split(',').filter(Boolean);
      const expiresAt = values.expires === undefined ? undefined : parseExpiry(values.expires);
      const { token, record } = await mintToken({
        expiresAt,
        role: values.admin ? 'admin' : 'user',
        user: values.user,
        name: values.name ?? (values.user ? `user ${values.user}` : 'admin'),
        facilities,
      });
      if (values.json) console.log(JSON.stringify({ token, ...record }));
      else
        console.log(
          `${token}\n(id ${record.id}, role ${record.role}${record.user ? `, user ${record.user}` : ''}${facilities ? `, facilities ${facilities.join(',')}` : ''}${record.expiresAt ? `, expires ${record.expiresAt}` : ''}; shown once: store it now)`,
        );
      break;
    }
    case 'list': {
      const tokens = await listTokens();
      if (values.json) console.log(JSON.stringify(tokens));
      else
        for (const t of tokens)
          console.log(
            `${t.id}  ${t.role.padEnd(5)}  ${(t.user ?? '-').padEnd(12)}  ${t.revokedAt ? 'revoked ' + t.revokedAt : t.expiresAt && t.expiresAt <= new Date().toISOString() ? 'expired ' + t.expiresAt : t.expiresAt ? 'live until ' + t.expiresAt : 'live'}  ${t.facilities?.join(',') ?? 'all facilities'}  ${t.name}`,
          );
      break;
    }
    case 'revoke':
      if (!arg) fail('revoke needs a token id (see `list`)');
      if (!(await revokeToken(arg))) fail(`no live token with id ${arg}`);
      console.log(`revoked ${arg}`);
      break;
    case 'generate':
      console.log(generateToken());
      break;
    default:
      fail('usage: npm run token -- mint --user USER | mint --admin --name NAME [--facilities a,b] [--expires 30d] | list | revoke ID | generate');
  }
} catch (e) {
  // one clear line (a config error, an unreachable database), never a stack trace
  await closeDb().catch(() => undefined);
  fail((e as Error)?.message?.split('\n')[0] ?? String(e));
} finally {
  await closeDb();
}
