// The smoke run inside a Cloudflare Worker (workerd, nodejs_compat): one client per request, as
// the README says, closed before the response. The runner gives the ports in the query string.
import * as lib from 'redisdb-client';
import core from '../smoke-core.cjs';

export default {
  async fetch(request) {
    const ports = new URL(request.url).searchParams.getAll('port').map(Number);
    try {
      const checks = await core.smoke(lib, ports, undefined);
      return Response.json({ ok: true, checks });
    } catch (err) {
      return Response.json({ ok: false, error: String(err?.stack ?? err) }, { status: 500 });
    }
  },
};
