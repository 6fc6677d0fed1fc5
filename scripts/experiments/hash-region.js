// region 0x401068: 1 blocks, 0 absorbed, generation 0
function jit_401068(c, budget, entry) {
const r = c.r, m = c.mem, TR = m.tlbR, TW = m.tlbW, DV = m.view, U8 = m.bytes;
let rax = r[0], raxh = r[1], rcx = r[2], rcxh = r[3], rdx = r[4], rdxh = r[5], rsi = r[12], rsih = r[13], rdi = r[14], rdih = r[15], r8 = r[16], r8h = r[17], r9 = r[18], r9h = r[19], r10 = r[20], r10h = r[21];
let fa = 0, fah = 0, fb = 0, fbh = 0, fr = 0, frh = 0, fci = 0, fcf = 0, fof = 0, fk = 0, done = 0, bi = entry, xb = entry, xr = c.rip, xn = 0, xs = 0, xk = -1;



// Entry -1 (warm-up call): run only the exit path, changing nothing.
if (bi >= 0) run: for (;;) {
  switch (bi) {
case 0: { // 0x401068
done += xn; xn = 0; if (done >= budget) { xr = 4198504; break run; } xb = 0;
const t0 = rdx ^ rax, t1 = rdxh ^ raxh;
fr = t0; frh = t1;
rdx = t0; rdxh = t1;
const t2 = (rax + 1) | 0, t3 = (raxh + 0 + ((t2 >>> 0) < (rax >>> 0) ? 1 : 0)) | 0;
fa = rax; fb = 1; fah = raxh; fbh = 0; fr = t2; frh = t3;
rax = t2; raxh = t3;
const t4 = (rdx << 31) | (rdxh >>> (32 - 31));
const t5 = (rdxh << 31) | (rdx >>> (32 - 31));
const t6 = t4 & 1, t7 = (t5 >>> 31) ^ t6;
rdx = t4; rdxh = t5;
const t8 = Math.imul(r10, rdx), t9 = (mulhu32(r10, rdx) + Math.imul(r10, rdxh) + Math.imul(r10h, rdx)) | 0;
rdx = t8; rdxh = t9;
const t10 = (rcx + rdx) | 0, t11 = (rcxh + rdxh + ((t10 >>> 0) < (rcx >>> 0) ? 1 : 0)) | 0;
fa = rcx; fb = rdx; fah = rcxh; fbh = rdxh; fr = t10; frh = t11;
rcx = t10; rcxh = t11;
rsi = rdx; rsih = rdxh;
const t12 = (rcx << 27) | (rcxh >>> (32 - 27));
const t13 = (rcxh << 27) | (rcx >>> (32 - 27));
const t14 = t12 & 1, t15 = (t13 >>> 31) ^ t14;
rcx = t12; rcxh = t13;
const t16 = (rsih >>> (33 - 32)) | 0, t17 = 0;
const t18 = (rsih >>> (33 - 33)) & 1, t19 = rsih >>> 31;
rsi = t16; rsih = t17;
const t21 = (rcxh << 2) | (rcx >>> 30), t20 = rcx << 2;
const t22 = (rcx + t20) | 0, t23 = (rcxh + t21 + ((t22 >>> 0) < (rcx >>> 0) ? 1 : 0)) | 0;
const t24 = (t22 + 1390208809) | 0, t25 = (t23 + ((t24 >>> 0) < (t22 >>> 0) ? 1 : 0)) | 0;
rcx = t24; rcxh = t25;
rdi = rcx; rdih = rcxh;
const t26 = rdi << 7, t27 = (rdih << 7) | (rdi >>> (32 - 7));
const t28 = (rdih >>> (32 - 7)) & 1, t29 = (t27 >>> 31) ^ t28;
rdi = t26; rdih = t27;
const t30 = (rsi + rdi) | 0, t31 = (rsih + rdih + ((t30 >>> 0) < (rsi >>> 0) ? 1 : 0)) | 0;
fa = rsi; fb = rdi; fah = rsih; fbh = rdih; fr = t30; frh = t31;
rsi = t30; rsih = t31;
const t32 = r8 ^ rsi, t33 = r8h ^ rsih;
fr = t32; frh = t33;
r8 = t32; r8h = t33;
const t34 = (r9 - rax) | 0, t35 = (r9h - raxh - ((r9 >>> 0) < (rax >>> 0) ? 1 : 0)) | 0;
fa = r9; fb = rax; fah = r9h; fbh = raxh; fr = t34; frh = t35;
if (!(((fr | frh) === 0) | ((frh < 0) !== (((fah ^ fbh) & (fah ^ frh)) < 0)))) { xn = 15; fk = 56; bi = 0; continue; }
xn = 15; fk = 56; xr = 4198559; break run;
}
default: throw new Error('jit: bad block index ' + bi);
  }
}
if (xk >= 0) {
  c.rip = AD[xk]; c.faultIndex = done + KL[xk]; throw takeFault();
}
done += xn;
r[0] = rax; r[1] = raxh; r[2] = rcx; r[3] = rcxh; r[4] = rdx; r[5] = rdxh; r[12] = rsi; r[13] = rsih; r[14] = rdi; r[15] = rdih; r[16] = r8; r[17] = r8h;
storeFlags(c, fk, fa, fah, fb, fbh, fr, frh, fci, fcf, fof);
c.rip = xr;
FS.slow = xs;
FS.from = xb;
return done;
}
