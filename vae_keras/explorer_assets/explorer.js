// The latent explorer: the run's generator computed from its exported weights (model.js),
// the test digits' z_mean on the plane, the digit decoded under the mouse.
(function () {
  "use strict";
  const M = window.EXPLORER_MODEL;

  function floats(b64) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return new Float32Array(bytes.buffer);
  }
  function bytes(b64) {
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  }

  const layers = M.layers.map((l) => ({
    n_in: l.in, n_out: l.out, activation: l.activation,
    kernel: floats(l.kernel), bias: floats(l.bias),
  }));
  const d = M.latent_dim;
  const classes = M.classes || 0;  // a conditional run: the digit asked for joins z
  const points = floats(M.points);
  const labels = bytes(M.labels);
  let chosen = 0;  // the digit a conditional run's page asks for

  // decode(z, label): the generator, step by step: h = activation(h @ kernel + bias), in
  // float64; a conditional run's first step takes [z, one_hot(label)].
  function decode(z, label) {
    if (!Array.isArray(z) && !(z instanceof Float32Array) && !(z instanceof Float64Array)) {
      throw new Error("decode(z) takes an array of " + d + " numbers");
    }
    if (z.length !== d) throw new Error("decode(z): z has " + z.length + " coordinates, the run " + d);
    let h = Float64Array.from(z);
    if (classes) {
      label = label === undefined ? chosen : label;
      if (!Number.isInteger(label) || label < 0 || label >= classes) {
        throw new Error("decode(z, label): label must be an integer from 0 to " + (classes - 1));
      }
      h = new Float64Array(d + classes);
      h.set(z);
      h[d + label] = 1;
    }
    for (const l of layers) {
      const out = new Float64Array(l.n_out);
      for (let j = 0; j < l.n_out; j++) out[j] = l.bias[j];
      for (let i = 0; i < l.n_in; i++) {
        const hi = h[i];
        if (hi === 0) continue;
        const row = i * l.n_out;
        for (let j = 0; j < l.n_out; j++) out[j] += hi * l.kernel[row + j];
      }
      if (l.activation === "relu") for (let j = 0; j < l.n_out; j++) out[j] = Math.max(out[j], 0);
      else if (l.activation === "sigmoid") for (let j = 0; j < l.n_out; j++) out[j] = 1 / (1 + Math.exp(-out[j]));
      h = out;
    }
    return Array.from(h);
  }
  window.decode = decode;

  // The plane shows z[0] (across) and z[1] (up); sliders set the other coordinates.
  const plane = document.getElementById("plane");
  const ctx = plane.getContext("2d");
  const W = plane.width, H = plane.height, PAD = 44;
  const show = Math.min(2, d);
  let lo = [], hi = [];
  for (let k = 0; k < show; k++) {
    let a = Infinity, b = -Infinity;
    for (let n = 0; n < M.n_points; n++) { const v = points[n * d + k]; a = Math.min(a, v); b = Math.max(b, v); }
    const pad = 0.05 * (b - a || 1);
    lo.push(a - pad); hi.push(b + pad);
  }
  if (show === 1) { lo.push(-1); hi.push(1); }
  const toX = (v) => PAD + (v - lo[0]) / (hi[0] - lo[0]) * (W - 2 * PAD);
  const toY = (v) => H - PAD - (v - lo[1]) / (hi[1] - lo[1]) * (H - 2 * PAD);
  const fromX = (x) => lo[0] + (x - PAD) / (W - 2 * PAD) * (hi[0] - lo[0]);
  const fromY = (y) => lo[1] + (H - PAD - y) / (H - 2 * PAD) * (hi[1] - lo[1]);
  const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

  const z = new Array(d).fill(0);
  let marker = null;

  function drawPlane() {
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
    for (let n = 0; n < M.n_points; n++) {
      ctx.fillStyle = COLORS[labels[n] % 10];
      const y = show > 1 ? points[n * d + 1] : 0;
      ctx.fillRect(toX(points[n * d]) - 1, toY(y) - 1, 2.5, 2.5);
    }
    ctx.strokeStyle = "#333"; ctx.strokeRect(PAD, PAD, W - 2 * PAD, H - 2 * PAD);
    ctx.fillStyle = "#222"; ctx.font = "12px sans-serif"; ctx.textAlign = "center";
    for (let t = Math.ceil(lo[0]); t <= hi[0]; t++) { ctx.fillText(String(t), toX(t), H - PAD + 14); }
    ctx.textAlign = "right";
    for (let t = Math.ceil(lo[1]); t <= hi[1]; t++) { ctx.fillText(String(t), PAD - 4, toY(t) + 4); }
    ctx.textAlign = "center"; ctx.font = "13px sans-serif";
    ctx.fillText("z[0] (z_mean of the test digits)", W / 2, H - 8);
    ctx.save(); ctx.translate(12, H / 2); ctx.rotate(-Math.PI / 2);
    ctx.fillText(show > 1 ? "z[1]" : "(one latent dimension)", 0, 0); ctx.restore();
    if (marker) {
      ctx.strokeStyle = "#000"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(marker[0], marker[1], 6, 0, 2 * Math.PI); ctx.stroke(); ctx.lineWidth = 1;
    }
  }

  const digit = document.getElementById("digit");
  const dctx = digit.getContext("2d");
  const [rows, cols] = M.image_shape;
  const channels = M.image_shape.length > 2 ? M.image_shape[2] : 1;
  const small = document.createElement("canvas");
  small.width = cols; small.height = rows;
  const sctx = small.getContext("2d");

  function drawDigit() {
    const x = decode(z);
    const img = sctx.createImageData(cols, rows);
    for (let p = 0; p < rows * cols; p++) {
      for (let c = 0; c < 3; c++) {
        const v = channels === 3 ? x[p * 3 + c] : x[p];
        img.data[p * 4 + c] = Math.round(255 * Math.min(Math.max(v, 0), 1));
      }
      img.data[p * 4 + 3] = 255;
    }
    sctx.putImageData(img, 0, 0);
    dctx.imageSmoothingEnabled = false;
    dctx.drawImage(small, 0, 0, digit.width, digit.height);
    document.getElementById("z").textContent = "z = [" + z.map((v) => v.toFixed(2)).join(", ") + "]";
  }

  function update() { drawPlane(); drawDigit(); }

  function onMove(event) {
    const r = plane.getBoundingClientRect();
    const x = (event.clientX - r.left) * (W / r.width), y = (event.clientY - r.top) * (H / r.height);
    if (x < PAD || x > W - PAD || y < PAD || y > H - PAD) return;
    z[0] = fromX(x);
    if (show > 1) z[1] = fromY(y);
    marker = [x, y];
    update();
  }
  plane.addEventListener("mousemove", onMove);
  // planePosition(z): where z[0], z[1] lie on the page (for tests and screenshots).
  window.planePosition = function (zz) {
    const r = plane.getBoundingClientRect();
    return [r.left + toX(zz[0]) * r.width / W, r.top + toY(show > 1 ? zz[1] : 0) * r.height / H];
  };
  plane.addEventListener("mousedown", onMove);

  const sliders = document.getElementById("sliders");
  for (let k = 2; k < d; k++) {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "range"; input.min = "-3"; input.max = "3"; input.step = "0.05"; input.value = "0";
    input.id = "z" + k;
    const value = document.createElement("span");
    value.textContent = " z[" + k + "] = 0.00";
    input.addEventListener("input", () => {
      z[k] = parseFloat(input.value); value.textContent = " z[" + k + "] = " + z[k].toFixed(2); drawDigit();
    });
    label.appendChild(input); label.appendChild(value); sliders.appendChild(label);
  }

  if (classes) {  // the digit choice of a conditional run
    const choice = document.createElement("label");
    choice.id = "label-box";
    choice.textContent = "digit asked for: ";
    const select = document.createElement("select");
    select.id = "label-choice";
    for (let c = 0; c < classes; c++) {
      const option = document.createElement("option");
      option.value = String(c); option.textContent = String(c);
      select.appendChild(option);
    }
    select.addEventListener("change", () => { chosen = parseInt(select.value, 10); drawDigit(); });
    choice.appendChild(select);
    document.getElementById("digit-box").insertBefore(choice, digit);
  }

  const legend = document.getElementById("legend");
  legend.appendChild(document.createTextNode("label: "));
  for (let c = 0; c < 10; c++) {
    const s = document.createElement("span");
    s.innerHTML = '<i style="background:' + COLORS[c] + '"></i>' + c;
    legend.appendChild(s);
  }
  document.getElementById("run").textContent =
    "run " + M.run + ": latent size " + d + ", " + M.n_points + " test digits; the digit is the generator's mean image for z" +
    (classes ? " and the digit asked for (a conditional VAE: each test digit is encoded with its own label, so z keeps the style, not the class)." : ".");
  update();
  window.explorerReady = true;
})();
