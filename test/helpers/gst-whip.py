"""A WHIP publisher made of GStreamer's webrtcbin (libnice ICE, its own DTLS
and SDP): a third-party client for the tests, not onair code.

Usage: gst-whip.py <whip url> <bearer token>
Prints one JSON object per line: {"type":"posted","status":…,"location":…},
{"type":"ice","state":…}, {"type":"connected"}, {"type":"failed","message":…}.
Sends H.264 (x264, a keyframe every second) and Opus from test sources until
SIGTERM or SIGINT, then DELETEs its session and exits.
libnice gathers no loopback address (and PyGObject cannot reach webrtcbin's
ice-agent to add one): the server must offer a host candidate, as it does
unless ONAIR_LOOPBACK_ONLY_ICE=1.
"""
import json
import signal
import sys
import urllib.error
import urllib.parse
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("GstSdp", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

PIPELINE = (
    "webrtcbin name=send bundle-policy=max-bundle "
    "videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=30/1 "
    "! videoconvert ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bitrate=800 "
    "! video/x-h264,profile=constrained-baseline ! rtph264pay config-interval=-1 aggregate-mode=zero-latency "
    "! application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000 ! send. "
    "audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample "
    "! opusenc ! rtpopuspay ! application/x-rtp,media=audio,encoding-name=OPUS,payload=111 ! send."
)


def say(**msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


class Publisher:
    def __init__(self, url, token):
        self.url = url
        self.token = token
        self.location = None
        self.loop = GLib.MainLoop()
        self.pipe = Gst.parse_launch(PIPELINE)
        self.webrtc = self.pipe.get_by_name("send")
        self.webrtc.connect("on-negotiation-needed", self.on_negotiation_needed)
        self.webrtc.connect("notify::ice-gathering-state", self.on_gathering)
        self.webrtc.connect("notify::ice-connection-state", self.on_ice)
        self.webrtc.connect("notify::connection-state", self.on_connection)
        self.posted = False
        self.connected = False
        bus = self.pipe.get_bus()
        bus.add_signal_watch()
        bus.connect("message::error", self.on_error)

    def run(self):
        self.pipe.set_state(Gst.State.PLAYING)
        for t in range(2):
            tr = self.webrtc.emit("get-transceiver", t)
            if tr is not None:
                tr.set_property("direction", GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, self.stop)
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, self.stop)
        GLib.timeout_add_seconds(15, self.check_connected)
        self.loop.run()

    def on_error(self, _bus, message):
        err, _debug = message.parse_error()
        self.fail(f"GStreamer: {err.message}")

    def fail(self, message):
        say(type="failed", message=message)
        self.stop()

    def check_connected(self):
        if not self.connected:
            self.fail("ICE did not connect within 15 s")
        return False

    def on_negotiation_needed(self, element):
        promise = Gst.Promise.new_with_change_func(self.on_offer, element, None)
        element.emit("create-offer", None, promise)

    def on_offer(self, promise, element, _data):
        reply = promise.get_reply()
        offer = reply.get_value("offer")
        element.emit("set-local-description", offer, Gst.Promise.new())

    def on_gathering(self, element, _pspec):
        # Non-trickle WHIP: the offer goes out with every candidate in it.
        if element.get_property("ice-gathering-state") != GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            return
        if self.posted:
            return
        self.posted = True
        sdp = element.get_property("local-description").sdp.as_text()
        GLib.idle_add(self.post, sdp)

    def post(self, sdp):
        req = urllib.request.Request(
            self.url,
            data=sdp.encode(),
            method="POST",
            headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {self.token}"},
        )
        try:
            with urllib.request.urlopen(req, timeout=15) as res:
                status = res.status
                answer = res.read().decode()
                location = res.headers.get("Location")
        except urllib.error.HTTPError as e:
            say(type="posted", status=e.code, location=None, body=e.read().decode(errors="replace"))
            self.fail(f"WHIP POST answered {e.code}")
            return False
        self.location = urllib.parse.urljoin(self.url, location) if location else None
        say(type="posted", status=status, location=location, answer=answer)
        _res, msg = GstSdp.SDPMessage.new_from_text(answer)
        desc = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg)
        self.webrtc.emit("set-remote-description", desc, Gst.Promise.new())
        return False

    def on_ice(self, element, _pspec):
        state = element.get_property("ice-connection-state")
        say(type="ice", state=state.value_nick)
        if state in (GstWebRTC.WebRTCICEConnectionState.CONNECTED, GstWebRTC.WebRTCICEConnectionState.COMPLETED):
            self.on_connected()
        elif state == GstWebRTC.WebRTCICEConnectionState.FAILED:
            self.fail("ICE failed")

    def on_connection(self, element, _pspec):
        state = element.get_property("connection-state")
        if state == GstWebRTC.WebRTCPeerConnectionState.CONNECTED:
            self.on_connected()

    def on_connected(self):
        if not self.connected:
            self.connected = True
            say(type="connected")

    def stop(self, *_args):
        if self.location:
            try:
                req = urllib.request.Request(
                    self.location, method="DELETE", headers={"Authorization": f"Bearer {self.token}"}
                )
                urllib.request.urlopen(req, timeout=5).read()
            except Exception:  # the server may be gone already
                pass
            self.location = None
        self.pipe.set_state(Gst.State.NULL)
        self.loop.quit()
        return False


def main():
    Gst.init(None)
    if len(sys.argv) != 3:
        sys.stderr.write("usage: gst-whip.py <whip url> <bearer token>\n")
        sys.exit(2)
    Publisher(sys.argv[1], sys.argv[2]).run()


if __name__ == "__main__":
    main()
