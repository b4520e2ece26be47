// Upload one file to Jilu's tus endpoint with tus-js-client (an independent client).
// usage: node tus_upload.mjs ENDPOINT TOKEN FILE METADATA_JSON MODE [UPLOAD_URL]
//   MODE "interrupt": stop after the first confirmed chunk and print the upload URL;
//   MODE "finish": upload everything (resuming at UPLOAD_URL when given).
// Prints one JSON line: {"url", "offset", "done", "headers"}.
import fs from "node:fs";
import * as tus from "tus-js-client";

const [endpoint, token, file, metadataJson, mode, uploadUrl] = process.argv.slice(2);
const data = fs.readFileSync(file);
let finished = false;

const upload = new tus.Upload(data, {
  endpoint,
  uploadUrl: uploadUrl || null,
  chunkSize: 64 * 1024,
  retryDelays: [0, 500, 1000],
  metadata: JSON.parse(metadataJson),
  headers: { Authorization: `Bearer ${token}` },
  onChunkComplete(chunkSize, bytesAccepted) {
    if (mode === "interrupt" && !finished) {
      finished = true;
      upload.abort(false).then(() => {
        console.log(JSON.stringify({ url: upload.url, offset: bytesAccepted, done: false }));
      });
    }
  },
  onSuccess(payload) {
    const res = payload && payload.lastResponse;
    const headers = {};
    for (const name of ["Jilu-Recording-Id", "Jilu-Sha256", "Jilu-Quarantine-Id"]) {
      const value = res ? res.getHeader(name) : undefined;
      if (value) headers[name.toLowerCase()] = value;
    }
    console.log(JSON.stringify({ url: upload.url, offset: data.length, done: true, headers }));
  },
  onError(error) {
    console.error(String(error));
    process.exit(1);
  },
});
upload.start();
