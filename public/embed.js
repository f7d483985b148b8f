/* onair embed: <script src="https://your-server/embed.js" async></script>
 * <onair-player channel="ch_…" server="https://your-server" protocol="hls" muted autoplay></onair-player>
 * protocol: "hls" (default), "dash", or "webrtc" (real time, straight from the server's SFU).
 * Defines a custom element that wraps the /embed/<channel> page in a responsive iframe.
 * A channel that needs a playback token takes it in the `token` attribute. */
(function () {
  if (typeof customElements === 'undefined' || customElements.get('onair-player')) return;
  var script = document.currentScript;
  var defaultServer = script && script.src ? new URL(script.src).origin : '';

  /** The origin of an http(s) server URL; null for anything else (javascript:, data:, …). */
  function serverOrigin(value) {
    var url;
    try {
      url = new URL(value, document.baseURI);
    } catch {
      return null;
    }
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : null;
  }

  class OnairPlayer extends HTMLElement {
    static get observedAttributes() {
      return ['channel', 'server', 'protocol', 'muted', 'autoplay', 'controls', 'token'];
    }
    connectedCallback() {
      this.render();
    }
    attributeChangedCallback() {
      if (this.isConnected) this.render();
    }
    render() {
      var root = this.shadowRoot || this.attachShadow({ mode: 'open' });
      root.textContent = '';
      var channel = this.getAttribute('channel');
      if (!channel) return;
      var server = serverOrigin(this.getAttribute('server') || defaultServer);
      if (!server) {
        console.warn('onair-player: the server attribute must be an http(s) URL');
        return;
      }
      var q = new URLSearchParams();
      ['protocol', 'muted', 'autoplay', 'controls', 'token'].forEach(
        function (name) {
          var v = this.getAttribute(name);
          if (v !== null) q.set(name, v === '' ? '1' : v);
        }.bind(this),
      );
      var src = server + '/embed/' + encodeURIComponent(channel) + (q.toString() ? '?' + q.toString() : '');
      var style = document.createElement('style');
      style.textContent =
        ':host{display:block;position:relative;width:100%;aspect-ratio:16/9;background:#000}' +
        'iframe{position:absolute;inset:0;width:100%;height:100%;border:0}';
      root.appendChild(style);
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
