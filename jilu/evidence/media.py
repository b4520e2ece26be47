"""Probing a recording's bytes: what it holds and whether it is whole (PyAV).

``probe(path)`` reads container metadata only (the MP4 index, the WAV header,
the JPEG markers) and decodes at most a frame at each end, so it takes about
the same few milliseconds for a 10-second clip and a 4-hour recording
(``bench/media_probe.py``). It never writes to the file: a damaged recording
stays byte for byte what the recorder made (C6.5.3, C6.5.4).

Integrity (shown wherever the recording appears):

* 完整 ``complete``: the container is whole and its streams decode;
* 不完整 ``incomplete``: a media file that was truncated or damaged, with the
  reason (e.g. "缺少索引（moov）" for an MP4 whose index atom was cut off when
  the recorder lost power);
* 无法解析 ``unparseable``: not a media file at all (a text file renamed .MP4).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from jilu.evidence.media_models import MediaInfo

Integrity = MediaInfo.Integrity

# What Chromium plays without help (H.264/AAC in MP4; plain PCM WAV; JPEG/PNG shown as is).
PLAYABLE_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2", "wav", "mp3"}
PLAYABLE_VIDEO = {"h264"}
PLAYABLE_AUDIO = {"aac", "mp3", "pcm_s16le", "pcm_u8", "pcm_f32le"}
IMAGE_CODECS = {"mjpeg", "png", "bmp", "webp"}
BROWSER_IMAGES = {"mjpeg", "png", "webp"}

# ISO base media (MP4/MOV) top-level boxes a recorder file may start with.
ISO_FIRST_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pdin", b"styp"}
MAX_BOXES = 4096  # a fragmented MP4 has many; stop walking there (metadata only)
DEVICE_TZ = ZoneInfo("Asia/Shanghai")  # EXIF times are the device's wall clock


@dataclass
class ProbeResult:
    """Everything the probe learns; the fields mirror ``MediaInfo``."""

    integrity: str = Integrity.COMPLETE
    integrity_reason: str = ""
    container: str = ""
    video_codec: str = ""
    audio_codec: str = ""
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    duration_seconds: float | None = None
    embedded_created_at: datetime | None = None
    has_video: bool = False
    has_audio: bool = False
    is_image: bool = False
    browser_playable: bool = False
    reasons: list[str] = field(default_factory=list)

    def damaged(self, reason: str) -> None:
        """Mark as 不完整 with ``reason`` (reasons accumulate, first ones first)."""
        if self.integrity != Integrity.UNPARSEABLE:
            self.integrity = Integrity.INCOMPLETE
        if reason not in self.reasons:
            self.reasons.append(reason)
        self.integrity_reason = "；".join(self.reasons)[:300]

    def media_fields(self) -> dict:
        """The ``MediaInfo`` fields this probe sets."""
        return {
            "integrity": self.integrity,
            "integrity_reason": self.integrity_reason,
            "container": self.container,
            "video_codec": self.video_codec,
            "audio_codec": self.audio_codec,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "duration_seconds": self.duration_seconds,
            "embedded_created_at": self.embedded_created_at,
            "has_video": self.has_video,
            "has_audio": self.has_audio,
            "browser_playable": self.browser_playable,
        }


# --- container-level checks (headers only, independent of length) -----------


def sniff(head: bytes) -> str:
    """'iso' (MP4/MOV), 'wav', 'jpeg' or '' from a file's first bytes."""
    if len(head) >= 8 and head[4:8] in ISO_FIRST_BOXES:
        return "iso"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    return ""


def check_iso_boxes(fh, size: int, result: ProbeResult) -> tuple[int, int] | None:
    """Walk the top-level boxes: an MP4 needs its index (``moov``) whole, and no
    box may run past the end of the file (truncation). Returns the whole
    ``moov`` box's (payload start, end), if there is one."""
    pos, seen, count, moov = 0, {}, 0, None
    while pos < size and count < MAX_BOXES:
        fh.seek(pos)
        header = fh.read(16)
        if len(header) < 8:
            result.damaged(f"文件末尾有 {size - pos} 字节残缺数据（文件被截断）")
            break
        box_size, kind = struct.unpack(">I4s", header[:8])
        header_size = 8
        if box_size == 1:
            if len(header) < 16:
                result.damaged("最后一个数据块的长度不完整（文件被截断）")
                break
            box_size, header_size = struct.unpack(">Q", header[8:16])[0], 16
        elif box_size == 0:  # runs to the end of the file
            box_size = size - pos
        if box_size < 8:
            result.damaged(f"偏移 {pos} 处的数据块长度无效（文件已损坏）")
            break
        name = kind.decode("latin-1")
        if pos + box_size > size:
            seen[name] = "cut"
            missing = pos + box_size - size
            if kind == b"moov":
                result.damaged(f"索引（moov）被截断，缺少 {missing} 字节")
            else:
                result.damaged(f"数据块（{name}）被截断，缺少 {missing} 字节")
            break
        seen.setdefault(name, "whole")
        if kind == b"moov" and moov is None:
            moov = (pos + header_size, pos + box_size)
        pos += box_size
        count += 1
    if "moov" not in seen and "moof" not in seen:
        result.damaged("缺少索引（moov）：录制未正常结束，文件被截断")
    if "moof" in seen:
        return None  # fragmented: FFmpeg reads the fragments
    return moov


def check_wav(fh, size: int, result: ProbeResult) -> None:
    """The RIFF header states the file's length; fewer bytes means truncation."""
    fh.seek(0)
    header = fh.read(12)
    riff_size = struct.unpack("<I", header[4:8])[0]
    if riff_size + 8 > size:
        result.damaged(f"WAV 文件被截断：头部声明 {riff_size + 8} 字节，实际 {size} 字节")


def check_jpeg(fh, size: int, result: ProbeResult) -> None:
    """A whole JPEG ends with the EOI marker (FF D9)."""
    fh.seek(max(size - 2, 0))
    if fh.read(2) != b"\xff\xd9":
        result.damaged("缺少图像结束标记（EOI）：照片被截断")


# --- MP4/MOV metadata straight from the index (no sample tables parsed) -------

ISO_CONTAINER = "mov,mp4,m4a,3gp,3g2,mj2"  # FFmpeg's name for the family
MP4_EPOCH = datetime(1904, 1, 1, tzinfo=UTC)
VIDEO_FOURCC = {
    b"avc1": "h264",
    b"avc3": "h264",
    b"hvc1": "hevc",
    b"hev1": "hevc",
    b"mp4v": "mpeg4",
    b"jpeg": "mjpeg",
    b"mjpa": "mjpeg",
    b"av01": "av1",
    b"vp09": "vp9",
}
AUDIO_FOURCC = {
    b"sowt": "pcm_s16le",
    b"twos": "pcm_s16be",
    b"ulaw": "pcm_mulaw",
    b"alaw": "pcm_alaw",
    b"Opus": "opus",
    b".mp3": "mp3",
    b"ac-3": "ac3",
    b"samr": "amr_nb",
}
# MPEG-4 objectTypeIndication of an mp4a entry (ISO/IEC 14496-1).
MP4A_OTI = {0x40: "aac", 0x66: "aac", 0x67: "aac", 0x68: "aac", 0x69: "mp3", 0x6B: "mp3"}


class IsoUnreadable(Exception):
    """The index does not have the shape this reader expects: let FFmpeg read it."""


def _children(fh, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) of the boxes between ``start`` and ``end``."""
    pos = start
    while pos + 8 <= end:
        fh.seek(pos)
        header = fh.read(16)
        size, kind = struct.unpack(">I4s", header[:8])
        payload = pos + 8
        if size == 1:
            size = struct.unpack(">Q", header[8:16])[0]
            payload = pos + 16
        elif size == 0:
            size = end - pos
        if size < 8 or pos + size > end:
            raise IsoUnreadable(f"box {kind!r} at {pos} is malformed")
        yield kind, payload, pos + size
        pos += size


def _child(fh, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    for found, payload, box_end in _children(fh, start, end):
        if found == kind:
            return payload, box_end
    return None


def _path(fh, start: int, end: int, *kinds: bytes) -> tuple[int, int] | None:
    span: tuple[int, int] | None = (start, end)
    for kind in kinds:
        span = _child(fh, span[0], span[1], kind)
        if span is None:
            return None
    return span


def _times(fh, payload: int) -> tuple[int, int, int]:
    """(creation seconds since 1904, timescale, duration) of an mvhd/mdhd box."""
    fh.seek(payload)
    version = fh.read(4)[0]
    if version == 1:
        created, _modified, scale, duration = struct.unpack(">QQIQ", fh.read(28))
    else:
        created, _modified, scale, duration = struct.unpack(">IIII", fh.read(16))
    return created, scale, duration


def _mp4a_codec(entry: bytes) -> str:
    at = entry.find(b"esds")
    if at < 0:
        return "aac"
    data = entry[at + 8 :]  # after the type and the version/flags

    def descriptor(pos: int) -> tuple[int, int]:
        tag, length, pos = data[pos], 0, pos + 1
        for _ in range(4):
            byte = data[pos]
            pos += 1
            length = (length << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        return tag, pos

    try:
        tag, pos = descriptor(0)
        if tag == 0x03:
            flags = data[pos + 2]
            pos += 3
            if flags & 0x80:
                pos += 2
            if flags & 0x40:
                pos += 1 + data[pos]
            if flags & 0x20:
                pos += 2
            tag, pos = descriptor(pos)
        if tag == 0x04:
            return MP4A_OTI.get(data[pos], "mpeg4audio")
    except IndexError:
        pass
    return "aac"


def _last_chunk_offset(fh, stbl: tuple[int, int]) -> int | None:
    """Where the track's last chunk starts, from the last entry of stco/co64 (one read)."""
    for kind, width in ((b"stco", 4), (b"co64", 8)):
        span = _child(fh, stbl[0], stbl[1], kind)
        if span is None:
            continue
        fh.seek(span[0] + 4)
        count = struct.unpack(">I", fh.read(4))[0]
        if count == 0:
            return None
        fh.seek(span[0] + 8 + (count - 1) * width)
        return int.from_bytes(fh.read(width), "big")
    return None


def read_iso_index(fh, size: int, moov: tuple[int, int], result: ProbeResult) -> None:
    """Fill ``result`` from the ``moov`` box: header boxes only, so the time taken
    does not grow with the recording's length (sample sizes are never read)."""
    result.container = ISO_CONTAINER
    mvhd = _child(fh, *moov, b"mvhd")
    if mvhd is None:
        raise IsoUnreadable("no mvhd")
    created, scale, duration = _times(fh, mvhd[0])
    if not scale or not duration:
        raise IsoUnreadable("no duration in mvhd")  # FFmpeg works it out from the samples
    result.duration_seconds = duration / scale
    if created:
        result.embedded_created_at = _parse_time(
            (MP4_EPOCH + timedelta(seconds=created)).isoformat()
        )
    for kind, payload, end in _children(fh, *moov):
        if kind != b"trak":
            continue
        hdlr = _path(fh, payload, end, b"mdia", b"hdlr")
        mdhd = _path(fh, payload, end, b"mdia", b"mdhd")
        stbl = _path(fh, payload, end, b"mdia", b"minf", b"stbl")
        if hdlr is None or mdhd is None or stbl is None:
            continue
        fh.seek(hdlr[0] + 8)
        handler = fh.read(4)
        if handler not in (b"vide", b"soun"):
            continue
        stsd = _child(fh, *stbl, b"stsd")
        if stsd is None:
            continue
        fh.seek(stsd[0] + 8)
        entry = fh.read(min(stsd[1] - stsd[0] - 8, 4096))
        if len(entry) < 36:
            continue
        fourcc = entry[4:8]
        last = _last_chunk_offset(fh, stbl)
        if last is not None and last >= size:
            result.damaged("数据被截断：索引所指的数据超出文件末尾")
        _created, track_scale, _track_duration = _times(fh, mdhd[0])
        if handler == b"vide" and not result.has_video:
            result.has_video = True
            result.video_codec = VIDEO_FOURCC.get(fourcc, fourcc.decode("latin-1").strip())
            result.width, result.height = struct.unpack(">HH", entry[32:36])
            stts = _child(fh, *stbl, b"stts")
            if stts is not None and track_scale:
                fh.seek(stts[0] + 4)
                count = struct.unpack(">I", fh.read(4))[0]
                # The frame duration most frames have (one entry when the rate is constant).
                _count, delta = max(struct.iter_unpack(">II", fh.read(count * 8)), default=(0, 0))
                if delta:
                    result.fps = round(track_scale / delta, 3)
        elif handler == b"soun" and not result.has_audio:
            result.has_audio = True
            if fourcc == b"mp4a":
                result.audio_codec = _mp4a_codec(entry)
            else:
                result.audio_codec = AUDIO_FOURCC.get(fourcc, fourcc.decode("latin-1").strip())
    if not (result.has_video or result.has_audio):
        raise IsoUnreadable("no audio or video track")


# --- the probe ----------------------------------------------------------------


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.strptime(value.strip(), "%Y:%m:%d %H:%M:%S")  # EXIF
        except ValueError:
            return None
        return parsed.replace(tzinfo=DEVICE_TZ).astimezone(UTC)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    # Muxers that know no time write the epoch of their format: not a real time.
    if parsed.year < 2000:
        return None
    return parsed.astimezone(UTC)


def _exif_time(path: Path) -> datetime | None:
    from PIL import Image

    try:
        with Image.open(path) as image:
            exif = image.getexif()
            sub = exif.get_ifd(0x8769)
            return _parse_time(sub.get(36867) or exif.get(306))
    except Exception:  # noqa: BLE001 - a photo without readable EXIF simply has no time
        return None


def _decodes(container, stream, seek_to: float | None) -> str:
    """'' when one frame of ``stream`` decodes (after seeking to ``seek_to`` s), else why not."""
    import av

    try:
        if seek_to is not None and stream.time_base:
            container.seek(int(seek_to / stream.time_base), stream=stream, backward=True)
        for _frame in container.decode(stream):
            return ""
        return "没有可解码的帧"
    except av.FFmpegError as exc:
        return f"{type(exc).__name__}: {exc}"[:120]


def probe(path: Path | str) -> ProbeResult:
    """Probe one file (see the module docstring); never raises for bad media."""
    import av

    path = Path(path)
    result = ProbeResult()
    size = path.stat().st_size
    if size == 0:
        result.integrity = Integrity.UNPARSEABLE
        result.integrity_reason = "空文件（0 字节）"
        return result
    with open(path, "rb") as fh:
        family = sniff(fh.read(16))
        if family == "iso":
            moov = check_iso_boxes(fh, size, result)
            if moov is not None:
                try:
                    read_iso_index(fh, size, moov, result)
                except (IsoUnreadable, struct.error, IndexError, ValueError):
                    pass  # an unusual index: FFmpeg below reads it the slow way
                else:
                    result.browser_playable = playable(result)
                    return result
        elif family == "wav":
            check_wav(fh, size, result)
        elif family == "jpeg":
            check_jpeg(fh, size, result)

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        if family:
            # A media container we recognise that FFmpeg cannot open: damaged, not foreign.
            result.container = {"iso": "mov,mp4,m4a,3gp,3g2,mj2", "wav": "wav", "jpeg": "jpeg"}[
                family
            ]
            if not result.reasons:
                result.damaged(f"无法打开封装：{exc}"[:200])
        else:
            result.integrity = Integrity.UNPARSEABLE
            result.integrity_reason = "不是可识别的音视频或图片文件"
        return result

    with container:
        result.container = container.format.name
        video = next((s for s in container.streams.video), None)
        audio = next((s for s in container.streams.audio), None)
        if video is None and audio is None:
            if result.reasons:  # a damaged media container (e.g. its index cut off)
                return result
            result.integrity = Integrity.UNPARSEABLE
            result.integrity_reason = "文件中没有音视频流"
            return result
        if container.duration:
            result.duration_seconds = container.duration / 1_000_000
        result.embedded_created_at = _parse_time(container.metadata.get("creation_time"))
        if video is not None:
            ctx = video.codec_context
            result.video_codec = ctx.name or ""
            result.width, result.height = ctx.width or None, ctx.height or None
            result.is_image = result.video_codec in IMAGE_CODECS and (
                result.container.endswith("_pipe") or result.container == "image2"
            )
            if result.is_image:
                result.duration_seconds = None
                result.embedded_created_at = _exif_time(path)
            else:
                result.has_video = True
                rate = video.average_rate or video.guessed_rate
                result.fps = round(float(rate), 3) if rate else None
                if result.embedded_created_at is None:
                    result.embedded_created_at = _parse_time(video.metadata.get("creation_time"))
        if audio is not None:
            result.has_audio = True
            result.audio_codec = audio.codec_context.name or ""
        if result.duration_seconds is None and not result.is_image:
            stream = video if result.has_video else audio
            if stream.duration and stream.time_base:
                result.duration_seconds = float(stream.duration * stream.time_base)

        # Decode one frame at the start and one near the end (cheap at any length).
        main = video if video is not None else audio
        problem = _decodes(container, main, None)
        if problem:
            result.damaged(f"开头无法解码（{problem}）")
        elif result.duration_seconds and result.duration_seconds > 2 and not result.is_image:
            problem = _decodes(container, main, result.duration_seconds - 1)
            if problem:
                result.damaged(f"末尾无法解码（{problem}）")

    result.browser_playable = playable(result)
    return result


def playable(result: ProbeResult) -> bool:
    """Whether Chromium shows the original as it is (else a playback copy is made)."""
    if result.is_image:
        return result.video_codec in BROWSER_IMAGES
    if result.container not in PLAYABLE_CONTAINERS:
        return False
    if result.has_video and result.video_codec not in PLAYABLE_VIDEO:
        return False
    if result.has_audio and result.audio_codec not in PLAYABLE_AUDIO:
        return False
    return result.has_video or result.has_audio
