/**
 * The dashboard's only static assets, served from the project itself (no CDN): one stylesheet
 * and one small script (no framework). The script adds three behaviours to server-rendered
 * pages, each opt-in by attribute:
 * - `data-stats="<url>"` on a table: polls that JSON (get-app-stats' answer) every 3 s and fills
 *   the `[data-cpu]`/`[data-mem]` cells of each `tr[data-app]`;
 * - `data-log="<url>"` on a `<pre>`: an EventSource on get-app-logs' SSE, appending lines;
 * - `data-refresh="<ms>"` on an element with an id: reloads the page in the background and
 *   swaps that element (pull progress), until it no longer asks to refresh;
 * - `[data-select-all]` checkbox: selects every `input[name=name]` of its form.
 * @module
 */

/** ui.css */
export const CSS = `*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,sans-serif;color:#1a1a1a;background:#fff}
a{color:#0645ad}a:focus,button:focus,input:focus,select:focus,summary:focus{outline:3px solid #1a5fb4;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px}
header{background:#1d2b3a;color:#fff;padding:8px 12px;display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center}
header a{color:#fff}header nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:4px 14px}
header a[aria-current=page]{font-weight:700;text-decoration-thickness:3px}
header .who{margin-left:auto;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
main{padding:12px;max-width:1200px}
h1{font-size:1.5rem;margin:.3em 0}h2{font-size:1.2rem;margin:1em 0 .4em}
.tablewrap{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#eef1f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
button{font:inherit;padding:4px 10px;border:1px solid #1d2b3a;border-radius:4px;background:#f3f5f7;color:#1a1a1a;cursor:pointer}
button.primary{background:#1a5fb4;color:#fff;border-color:#1a5fb4}button.danger{border-color:#a51d2d;color:#a51d2d}
input,select{font:inherit;padding:4px;border:1px solid #666;border-radius:4px;max-width:100%}
label{display:inline-block;margin-right:6px}
.actions{display:flex;flex-wrap:wrap;gap:6px;margin:8px 0;border:0;padding:0}.actions legend{font-weight:600;padding:0;margin-bottom:4px;width:100%}
.msg{padding:8px 12px;border-radius:4px;margin:8px 0}.msg.ok{background:#e6f4ea;border:1px solid #2b7a3d}.msg.error{background:#fbe9eb;border:1px solid #a51d2d}
.msg ul{margin:4px 0 0;padding-left:20px}
.state-running{color:#1e6b30;font-weight:600}.state-exited,.state-dead{color:#8a1c28}.state-paused{color:#7a4d00}
pre.log{background:#111;color:#eee;padding:8px;max-height:24em;overflow:auto;white-space:pre-wrap;word-break:break-all}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}dl.kv dt{font-weight:600}dl.kv dd{margin:0;word-break:break-all}
form.inline{display:inline}
.chart svg{width:100%;height:auto;max-width:900px;border:1px solid #999}
.legend span{display:inline-block;margin-right:12px}.sw{display:inline-block;width:12px;height:12px;border:1px solid #333;vertical-align:middle;margin-right:4px}
.muted{color:#555}
fieldset{border:1px solid #bbb;margin:8px 0;padding:8px}
`;

/** ui.js */
export const JS = `(function(){
function $$(s,r){return Array.prototype.slice.call((r||document).querySelectorAll(s))}
$$('[data-select-all]').forEach(function(b){b.addEventListener('change',function(){$$('input[name=name]',b.form).forEach(function(c){c.checked=b.checked})})});
$$('[data-stats]').forEach(function(t){
  function tick(){fetch(t.getAttribute('data-stats'),{credentials:'same-origin'}).then(function(r){return r.ok||r.status===207?r.json():null}).then(function(list){
    if(!list)return;(Array.isArray(list)?list:[list]).forEach(function(s){if(!s||!s.Name)return;var tr=t.querySelector('tr[data-app="'+s.Name+'"]');if(!tr)return;
      var c=tr.querySelector('[data-cpu]'),m=tr.querySelector('[data-mem]');if(c)c.textContent=s.CPUPerc||'';if(m)m.textContent=(s.MemUsage||'')+(s.MemPerc?' ('+s.MemPerc+')':'')});
    t.setAttribute('data-updated',String(Date.now()))}).catch(function(){}).then(function(){setTimeout(tick,3000)})}
  tick()});
$$('pre[data-log]').forEach(function(p){
  var es=new EventSource(p.getAttribute('data-log'));
  es.addEventListener('log',function(e){try{var d=JSON.parse(e.data);p.textContent+=d.line+'\\n';p.scrollTop=p.scrollHeight}catch(_){}});
  es.addEventListener('end',function(e){var s=document.getElementById('log-state');if(s){try{s.textContent='Log ended: '+JSON.parse(e.data).reason}catch(_){s.textContent='Log ended'}}es.close()});
  es.addEventListener('error',function(){var s=document.getElementById('log-state');if(s&&es.readyState===2)s.textContent='Log stream closed'})});
function refresh(el){var ms=Number(el.getAttribute('data-refresh'));if(!ms)return;setTimeout(function(){
  fetch(location.href,{credentials:'same-origin'}).then(function(r){return r.text()}).then(function(h){
    var d=new DOMParser().parseFromString(h,'text/html'),n=d.getElementById(el.id);if(!n)return;el.replaceWith(n);refresh(n)}).catch(function(){refresh(el)})},ms)}
$$('[data-refresh]').forEach(refresh);
})();
`;
