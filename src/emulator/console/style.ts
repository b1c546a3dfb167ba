/** The console page's stylesheet (inlined with a CSP nonce; no external assets). */
export const consoleStyle = `
:root{--bg:#f6f7f9;--card:#fff;--text:#1f2937;--muted:#6b7280;--line:#e5e7eb;--accent:#2563eb;--accent-d:#1d4ed8;
--run-bg:#dbeafe;--run:#1d4ed8;--ok-bg:#dcfce7;--ok:#15803d;--fail-bg:#fee2e2;--fail:#b91c1c;--ab-bg:#fef3c7;--ab:#b45309;
--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
*{box-sizing:border-box}
[hidden]{display:none!important}
html,body{margin:0;background:var(--bg);color:var(--text);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif}
button,input,select,textarea{font:inherit;color:inherit}
.top{display:flex;align-items:center;justify-content:space-between;padding:14px 24px;background:#111827;color:#f9fafb}
.brand{display:flex;align-items:center;gap:12px}
.logo{display:grid;place-items:center;width:34px;height:34px;border-radius:8px;background:var(--accent);font-weight:700;font-size:18px}
h1{font-size:17px;margin:0;font-weight:600}
.sub{font-size:12px;color:#9ca3af}
.live{font-size:12px;padding:3px 10px;border-radius:999px;display:inline-flex;align-items:center;gap:6px}
.live::before{content:"";width:8px;height:8px;border-radius:50%;background:currentColor}
.live-on{background:#064e3b;color:#6ee7b7}.live-off{background:#451a03;color:#fcd34d}
.grid{display:grid;grid-template-columns:minmax(0,1fr) 430px;gap:18px;padding:18px 24px;align-items:start}
@media (max-width:1100px){.grid{grid-template-columns:1fr}}
.col{display:flex;flex-direction:column;gap:18px;min-width:0}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px;box-shadow:0 1px 2px rgba(0,0,0,.04)}
.card h2{font-size:15px;margin:0 0 12px;font-weight:600}
.card h3{font-size:13px;margin:16px 0 6px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.03em}
.card-head{display:flex;align-items:baseline;justify-content:space-between;gap:8px}
.count{color:var(--muted);font-size:13px}
#invoke-form{display:grid;grid-template-columns:220px 250px 1fr auto;gap:14px;align-items:start}
@media (max-width:1300px){#invoke-form{grid-template-columns:1fr 1fr}}
.field{display:flex;flex-direction:column;gap:4px;margin:0;border:0;padding:0;min-width:0}
.field>label,.field legend{font-size:12px;color:var(--muted);font-weight:600;padding:0}
.radio{display:flex;align-items:center;gap:6px;font-size:13px;margin:3px 0;cursor:pointer}
select,input[type=text],input[type=search],input[type=datetime-local],textarea{border:1px solid #d1d5db;border-radius:6px;padding:6px 8px;background:#fff;min-width:0}
textarea{font-family:var(--mono);font-size:12.5px;resize:vertical;min-height:62px}
select:focus,input:focus,textarea:focus,button:focus-visible{outline:2px solid #93c5fd;outline-offset:1px}
textarea.invalid{border-color:var(--fail);background:#fff7f7}
.hint{font-size:11.5px;color:var(--muted)}.hint-error{color:var(--fail)}
.actions{display:flex;gap:8px;align-items:center;margin-top:18px}.actions.right{justify-content:flex-end}
.btn{border:1px solid #d1d5db;background:#fff;border-radius:6px;padding:6px 12px;cursor:pointer;white-space:nowrap}
.btn:hover:not(:disabled){background:#f3f4f6}.btn:disabled{opacity:.5;cursor:default}
.btn-primary{background:var(--accent);border-color:var(--accent);color:#fff;font-weight:600;padding:7px 18px}
.btn-primary:hover:not(:disabled){background:var(--accent-d)}
.btn-ghost{border-color:transparent;background:transparent;color:var(--accent)}
.btn-small{padding:2px 9px;font-size:12.5px}
.btn-warn{background:#f59e0b;border-color:#f59e0b;color:#fff;font-weight:600}.btn-warn:hover:not(:disabled){background:#d97706}
.btn-danger{background:#dc2626;border-color:#dc2626;color:#fff;font-weight:600}.btn-danger:hover:not(:disabled){background:#b91c1c}
.btn-danger-ghost{color:var(--fail);border-color:#fecaca}.btn-danger-ghost:hover:not(:disabled){background:#fef2f2}
.link{border:0;background:none;color:var(--accent);cursor:pointer;padding:0;text-decoration:underline}
.filters{display:flex;flex-wrap:wrap;gap:10px 10px;align-items:flex-end;margin-bottom:6px}
.filters select,.filters input{font-size:13px;padding:4px 6px}.filters input[type=search]{width:200px}
.filters .spacer{flex:1}
.mini{display:flex;flex-direction:column;gap:3px;font-size:11.5px;color:var(--muted);font-weight:600}
.chips{display:flex;gap:4px}
.chip{border:1px solid #d1d5db;background:#fff;border-radius:999px;padding:3px 10px;font-size:12px;cursor:pointer;color:var(--muted);font-weight:600}
.chip[aria-pressed=true].chip-running{background:var(--run-bg);color:var(--run);border-color:#93c5fd}
.chip[aria-pressed=true].chip-finished{background:var(--ok-bg);color:var(--ok);border-color:#86efac}
.chip[aria-pressed=true].chip-failed{background:var(--fail-bg);color:var(--fail);border-color:#fca5a5}
.chip[aria-pressed=true].chip-aborted{background:var(--ab-bg);color:var(--ab);border-color:#fcd34d}
.more{margin:4px 0 10px;font-size:13px}.more summary{cursor:pointer;color:var(--accent);width:max-content}
.more-grid{display:flex;flex-wrap:wrap;gap:10px 14px;margin-top:8px}
.table-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:8px}
.loading .table-wrap{opacity:.65;transition:opacity .2s}
table.events{width:100%;border-collapse:collapse}
.events th{text-align:left;font-size:11.5px;text-transform:uppercase;letter-spacing:.03em;color:var(--muted);font-weight:600;padding:8px 10px;background:#f9fafb;border-bottom:1px solid var(--line)}
.events td{padding:8px 10px;border-bottom:1px solid #f1f5f9;white-space:nowrap;vertical-align:middle}
.events tbody tr{cursor:pointer}.events tbody tr:hover{background:#f8fafc}
.events tbody tr.selected{background:#eff6ff;box-shadow:inset 3px 0 0 var(--accent)}
.events tbody tr:last-child td{border-bottom:0}
tr.flash{animation:flash 1.2s ease-out}@keyframes flash{from{background:#fef9c3}to{background:transparent}}
.mono{font-family:var(--mono);font-size:12.5px}.id{color:#374151}
td.id{max-width:230px;overflow:hidden;text-overflow:ellipsis}
.muted{color:var(--muted)}.small{font-size:12px}
.row-actions{display:flex;gap:6px;justify-content:flex-end}
.pill{display:inline-flex;align-items:center;gap:5px;padding:2px 9px;border-radius:999px;font-size:11.5px;font-weight:700;letter-spacing:.02em}
.pill-running{background:var(--run-bg);color:var(--run)}.pill-finished{background:var(--ok-bg);color:var(--ok)}
.pill-failed{background:var(--fail-bg);color:var(--fail)}.pill-aborted{background:var(--ab-bg);color:var(--ab)}
.dot{width:7px;height:7px;border-radius:50%;background:currentColor;animation:pulse 1.2s infinite}
@keyframes pulse{50%{opacity:.25}}
.code{margin-left:6px;font-family:var(--mono);font-size:12px;color:var(--muted)}
.empty{padding:28px 16px;text-align:center;color:var(--muted)}.empty strong{display:block;color:var(--text);margin-bottom:4px}.empty p{margin:4px 0}
.pager{display:flex;gap:6px;align-items:center;justify-content:flex-end;margin-top:8px;font-size:13px}
.banner{padding:8px 12px;border-radius:6px;font-size:13px;margin-top:12px}
.banner-ok{background:#f0fdf4;border:1px solid #bbf7d0}.banner-error{background:#fef2f2;border:1px solid #fecaca;color:#991b1b}
.details{position:sticky;top:18px;max-height:calc(100vh - 36px);overflow:auto}
.details-empty{padding:40px 10px}
.big-id{font-size:13px;word-break:break-all;margin:2px 0 10px}
.head-actions{display:flex;gap:4px}
.details-status .pill{font-size:13px;padding:4px 12px}
.facts{display:grid;grid-template-columns:110px 1fr;gap:4px 10px;margin:12px 0 0;font-size:13px}.facts dt{color:var(--muted)}.facts dd{margin:0}
pre.result{background:#f9fafb;border:1px solid var(--line);border-radius:6px;padding:8px 10px;margin:0;font:12px/1.45 var(--mono);white-space:pre-wrap;word-break:break-word;max-height:200px;overflow:auto}
pre.result-error{background:#fef2f2;border-color:#fecaca;color:#991b1b}
.logs{background:#0f172a;color:#e2e8f0;border-radius:8px;padding:8px 0;font:12px/1.55 var(--mono);max-height:420px;min-height:80px;overflow:auto}
.logs>.muted{padding:0 12px;color:#94a3b8}
.l{display:grid;grid-template-columns:92px 58px 1fr;gap:8px;padding:0 12px;white-space:pre-wrap;word-break:break-word}
.l-time{color:#64748b}.l-stream{color:#64748b;font-size:11px}
.l-stderr .l-text{color:#fca5a5}.l-platform .l-text{color:#94a3b8}
.l-platform-signal{background:rgba(167,139,250,.16)}.l-platform-signal .l-text{color:#c4b5fd;font-weight:600}
dialog{border:0;border-radius:12px;padding:20px 22px;max-width:480px;box-shadow:0 20px 50px rgba(0,0,0,.3)}
dialog::backdrop{background:rgba(15,23,42,.45)}dialog h2{margin:0 0 8px;font-size:17px}dialog p{margin:8px 0;color:#374151}
.toasts{position:fixed;right:18px;bottom:18px;display:flex;flex-direction:column;gap:8px;z-index:10;max-width:420px}
.toast{position:relative;padding:10px 34px 10px 14px;border-radius:8px;background:#111827;color:#f9fafb;box-shadow:0 8px 24px rgba(0,0,0,.2);font-size:13px}
.toast-error{background:#7f1d1d}.toast-ok{background:#14532d}.toast-detail{opacity:.85;margin-top:2px;word-break:break-word}
.toast-close{position:absolute;right:6px;top:4px;border:0;background:none;color:inherit;font-size:18px;cursor:pointer;opacity:.7}
.invoke-result pre{margin-top:8px}
.chip-count{display:inline-block;min-width:18px;margin-left:6px;padding:0 5px;border-radius:999px;background:#f3f4f6;color:#374151;font-size:11px;text-align:center}
.chip[aria-pressed=true] .chip-count{background:rgba(255,255,255,.7)}
.bulk{display:flex;align-items:center;gap:8px;margin:6px 0 10px;padding:8px 12px;border-radius:8px;background:#eff6ff;border:1px solid #bfdbfe;font-size:13px}
.bulk .spacer{flex:1}
th.check,td.check{width:28px;padding-right:0}
.escalating{font-size:11.5px;color:var(--ab);font-weight:600;align-self:center}
.banner-warn{background:#fffbeb;border:1px solid #fcd34d;color:#78350f;display:flex;flex-wrap:wrap;align-items:center;gap:4px}
.banner-warn .btn{margin-left:auto}
.countdown{font-variant-numeric:tabular-nums;font-weight:600}
.escalate{display:flex;align-items:center;gap:8px;font-size:13px;margin:10px 0 0}
.timeline-body{overflow-x:auto;border:1px solid var(--line);border-radius:8px;min-height:60px}
.timeline-body svg{display:block}
.tl-lane{fill:#fff}.tl-lane-alt{fill:#f9fafb}
.tl-grid{stroke:#eef0f3;stroke-width:1}
.tl-tick{font:10.5px var(--mono);fill:#9ca3af}
.tl-label{font:12px system-ui,sans-serif;fill:#374151;font-weight:600}
.tl-bar{cursor:pointer;stroke-width:1}
.tl-bar:hover{filter:brightness(.93)}
.tl-running{fill:#bfdbfe;stroke:#3b82f6}.tl-finished{fill:#bbf7d0;stroke:#22c55e}
.tl-failed{fill:#fecaca;stroke:#ef4444}.tl-aborted{fill:#fde68a;stroke:#f59e0b}
.tl-mark{pointer-events:all}
.tl-sigterm line,.tl-signal-failed line{stroke:#7c3aed;stroke-width:2}.tl-sigterm path{fill:#7c3aed}
.tl-signal-failed line{stroke:#9ca3af}.tl-signal-failed path{fill:#9ca3af}
.tl-force path{stroke:#b91c1c;stroke-width:2.6;stroke-linecap:round}
.tl-checkpoint circle{fill:#059669;stroke:#fff;stroke-width:1.5}
.tl-flush path{fill:#0891b2;stroke:#fff;stroke-width:1.5}
.tl-persist-failed circle{fill:#fff;stroke:#dc2626;stroke-width:2}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;margin-top:8px;font-size:12px;color:var(--muted)}
.lg{display:inline-flex;align-items:center;gap:5px}
.sw{display:inline-block;width:14px;height:9px;border-radius:2px;border:1px solid}
.sw-running{background:#bfdbfe;border-color:#3b82f6}.sw-finished{background:#bbf7d0;border-color:#22c55e}
.sw-failed{background:#fecaca;border-color:#ef4444}.sw-aborted{background:#fde68a;border-color:#f59e0b}
`
