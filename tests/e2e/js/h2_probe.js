// Raw HTTP/2 probes of kinesd with Node's own http2 client (no SDK). Run by ../test_http2.py:
//   node h2_probe.js goaway URL   one request, prints "ready", then waits for the server's GOAWAY
//                                 (sent when kinesd stops or the connection idles) and prints
//                                 {"goaway": code, "afterMs": ms, "streamOk": bool}
//   node h2_probe.js same URL     the same bad request as ../test_http2.py sends over HTTP/1.1;
//                                 prints {"status", "headers", "body"}
//   node h2_probe.js oversize URL BYTES  one request with a BYTES body; prints status and body
"use strict";
const http2 = require("http2");

const [mode, url, arg] = process.argv.slice(2);
const ca = process.env.KINESD_CA ? require("fs").readFileSync(process.env.KINESD_CA) : undefined;

function request(session, headers, body) {
  return new Promise((resolve, reject) => {
    const req = session.request({ ":method": "POST", ":path": "/", ...headers });
    let status = 0, resHeaders = {};
    const chunks = [];
    req.on("response", (h) => { status = h[":status"]; resHeaders = h; });
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve({ status, headers: resHeaders, body: Buffer.concat(chunks).toString() }));
    req.on("error", reject);
    req.end(body);
  });
}

(async () => {
  const session = http2.connect(url, ca ? { ca } : {});
  session.on("error", () => {});
  const target = { "x-amz-target": "Kinesis_20131202.ListStreams", "content-type": "application/x-amz-json-1.1" };
  if (mode === "goaway") {
    const first = await request(session, target, "{}");
    const started = Date.now();
    session.on("goaway", (code) => {
      console.log(JSON.stringify({ goaway: code, afterMs: Date.now() - started, streamOk: first.status === 200 }));
      process.exit(0);
    });
    console.log("ready");
  } else if (mode === "same") {
    const r = await request(session, { "x-amz-target": "Kinesis_20131202.NoSuchOperation",
                                       "content-type": "application/x-amz-json-1.1" }, "{}");
    console.log(JSON.stringify(r));
    process.exit(0);
  } else if (mode === "oversize") {
    const r = await request(session, { ...target, "content-length": String(Number(arg)) },
                            Buffer.alloc(Number(arg), 0x20));
    // The connection survives: a second request on it still works.
    const again = await request(session, target, "{}");
    console.log(JSON.stringify({ status: r.status, body: r.body, again: again.status }));
    process.exit(0);
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
})().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
