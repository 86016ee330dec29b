// Pushes DIR (as /data/) onto BASE as TARGET with container-image-builder
// 3.2.0, the way bench/registry.sh's imagespec spec does (one files layer,
// the base's config), and prints {"digest", "ms"} as one JSON line.
// usage: node push.js [--buffer-uploads] BASE TARGET DIR
//
// Both references are on a loopback registry without auth: the library
// speaks plain http to 127.0.0.1 by itself, and a dummy token keeps it from
// looking for docker credential helpers.
//
// --buffer-uploads works around an incompatibility of 3.2.0 with
// distribution (docker-registry 2.8.2): a layer of unknown length is sent as
// one PATCH and the library wants 204 back, but the distribution spec (and
// the registry) answer 202, so the push fails with "unexpected status code
// 202 for patch upload". With the flag, such a stream is first read into
// memory and handed back to the library's own monolithic path (POST, then PUT
// ?digest= with Content-Length), which the registry accepts. It costs memory
// (the whole compressed layer) and serialises compression and upload.
'use strict';
const {Image} = require('container-image-builder');
const {RegistryClient} = require('container-image-builder/build/src/registry');
const crypto = require('crypto');

function bufferUploads() {
  const upload = RegistryClient.prototype.upload;
  RegistryClient.prototype.upload = function (blob, contentLength, digest) {
    if (Buffer.isBuffer(blob) || contentLength) return upload.call(this, blob, contentLength, digest);
    return new Promise((resolve, reject) => {
      const chunks = [];
      blob.on('data', (b) => chunks.push(b));
      blob.on('error', reject);
      blob.on('end', () => {
        const buf = Buffer.concat(chunks);
        const d = 'sha256:' + crypto.createHash('sha256').update(buf).digest('hex');
        upload.call(this, buf, buf.length, d).then(resolve, reject);
      });
      blob.resume();
    });
  };
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--buffer-uploads') {
    args.shift();
    bufferUploads();
  }
  const [base, target, dir] = args;
  if (!dir) throw new Error('usage: node push.js [--buffer-uploads] BASE TARGET DIR');
  const registry = target.split('/')[0];
  const opts = {auth: {[registry]: {token: 'unused-by-an-open-registry'}}};
  const t0 = Date.now();
  const image = new Image(base, target, opts);
  await image.addFiles({'/data/': dir});
  const result = await image.save();
  process.stdout.write(JSON.stringify({digest: result && result.digest, ms: Date.now() - t0}) + '\n');
}

main().catch((e) => {
  console.error('cib: ' + (e && e.message || e));
  process.exit(1);
});
