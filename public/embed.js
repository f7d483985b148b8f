/* onair embed: <script src="https://your-server/embed.js" async></script>
 * <onair-player channel="ch_…" server="https://your-server" protocol="hls" muted autoplay></onair-player>
 * protocol: "hls" (default), "dash", or "webrtc" (real time, straight from the server's SFU).
 * Defines a custom element that wraps the /embed/<channel> page in a responsive iframe. */
(function () {
  if (typeof customElements === 'undefined' || customElements.get('onair-player')) return;
  var script = document.currentScript;
  var defaultServer = script && script.src ? new URL(script.src).origin : '';
  class OnairPlayer extends HTMLElement {
    static get observedAttributes() {
      return ['channel', 'server', 'protocol', 'muted', 'autoplay', 'controls'];
    }
    connectedCallback() {
      this.render();
    }
    attributeChangedCallback() {
      if (this.isConnected) this.render();
    }
    render() {
      var channel = this.getAttribute('channel');
      if (!channel) return;
      var server = (this.getAttribute('server') || defaultServer).replace(/\/+$/, '');
      var q = new URLSearchParams();
      ['protocol', 'muted', 'autoplay', 'controls'].forEach(
        function (name) {
          var v = this.getAttribute(name);
          if (v !== null) q.set(name, v === '' ? '1' : v);
        }.bind(this),
      );
      var src = server + '/embed/' + encodeURIComponent(channel) + (q.toString() ? '?' + q.toString() : '');
      var root = this.shadowRoot || this.attachShadow({ mode: 'open' });
      root.innerHTML =
        '<style>:host{display:block;position:relative;width:100%;aspect-ratio:16/9;background:#000}' +
        'iframe{position:absolute;inset:0;width:100%;height:100%;border:0}</style>';
      var frame = document.createElement('iframe');
      frame.src = src;
      frame.title = this.getAttribute('title') || 'onair live player';
      frame.allow = 'autoplay; fullscreen; picture-in-picture';
      frame.allowFullscreen = true;
      root.appendChild(frame);
    }
  }
  customElements.define('onair-player', OnairPlayer);
})();
