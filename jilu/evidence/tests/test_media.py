"""The media probe on generated files: what was encoded is what the probe reports,
and truncated or foreign files get the right integrity state (issue 4, item 2)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from jilu.evidence.media import probe
from jilu.evidence.media_models import MediaInfo
from jilu.evidence.tests import media_files

Integrity = MediaInfo.Integrity


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return media_files.sample_media(tmp_path_factory.mktemp("media"))


def test_h264_mp4_reports_what_was_encoded(media):
    result = probe(media["h264"])
    assert result.integrity == Integrity.COMPLETE
    assert result.integrity_reason == ""
    assert result.container.startswith("mov,mp4")
    assert (result.video_codec, result.audio_codec) == ("h264", "aac")
    assert (result.width, result.height) == (160, 120)
    assert result.fps == pytest.approx(10)
    assert result.duration_seconds == pytest.approx(2.5, abs=0.15)
    assert result.has_video and result.has_audio
    assert result.embedded_created_at == datetime(2026, 11, 26, 1, 2, 3, tzinfo=UTC)
    assert result.browser_playable


def test_h265_is_complete_but_not_browser_playable(media):
    result = probe(media["h265"])
    assert result.integrity == Integrity.COMPLETE
    assert result.video_codec == "hevc"
    assert (result.width, result.height) == (160, 120)
    assert result.duration_seconds == pytest.approx(2.5, abs=0.15)
    assert not result.browser_playable  # Chromium cannot play H.265: a playback copy is needed


def test_video_without_audio(tmp_path):
    path = media_files.make_mp4(tmp_path / "silent.mp4", audio=False, seconds=1)
    result = probe(path)
    assert result.has_video and not result.has_audio
    assert result.audio_codec == ""


def test_wav_is_audio_only(media):
    result = probe(media["wav"])
    assert result.integrity == Integrity.COMPLETE
    assert result.container == "wav"
    assert result.audio_codec == "pcm_s16le"
    assert result.has_audio and not result.has_video
    assert result.duration_seconds == pytest.approx(2.0, abs=0.01)
    assert result.browser_playable


def test_jpg_is_a_photo_with_its_exif_time(media):
    result = probe(media["jpg"])
    assert result.integrity == Integrity.COMPLETE
    assert result.is_image and not result.has_video
    assert (result.width, result.height) == (320, 240)
    assert result.duration_seconds is None
    # EXIF is the device wall clock (Asia/Shanghai): 09:02:03 there is 01:02:03 UTC.
    assert result.embedded_created_at == datetime(2026, 11, 26, 1, 2, 3, tzinfo=UTC)


def test_mp4_with_its_index_cut_off_is_incomplete_with_the_reason(media):
    """C6.5.4: a recording cut off when the battery died is kept and shown 不完整, not lost."""
    before = hashlib.sha256(media["truncated"].read_bytes()).hexdigest()
    result = probe(media["truncated"])
    assert result.integrity == Integrity.INCOMPLETE
    assert "缺少索引（moov）" in result.integrity_reason
    assert result.container.startswith("mov,mp4")
    # Never rewritten: the damaged file stays byte for byte (C6.5.3).
    assert hashlib.sha256(media["truncated"].read_bytes()).hexdigest() == before


def test_mp4_with_half_its_index_is_incomplete(tmp_path):
    path = media_files.make_truncated_mp4(tmp_path / "half.mp4", keep_of_moov=120)
    result = probe(path)
    assert result.integrity == Integrity.INCOMPLETE
    assert "moov" in result.integrity_reason and "截断" in result.integrity_reason


def test_mp4_with_its_data_cut_off_is_incomplete(tmp_path):
    """An index written first (faststart) but the data cut short: the box runs past the end."""
    import av

    src = media_files.make_mp4(tmp_path / "src.mp4", seconds=2)
    fast = tmp_path / "fast.mp4"
    with (
        av.open(str(src)) as inp,
        av.open(str(fast), "w", format="mp4", options={"movflags": "+faststart"}) as out,
    ):
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams}
        for packet in inp.demux():
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    data = fast.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) - 2000])
    result = probe(cut)
    assert result.integrity == Integrity.INCOMPLETE
    assert "mdat" in result.integrity_reason


def test_truncated_wav_and_jpg_are_incomplete(tmp_path, media):
    wav = tmp_path / "cut.wav"
    wav.write_bytes(media["wav"].read_bytes()[:-1000])
    assert probe(wav).integrity == Integrity.INCOMPLETE
    assert "WAV" in probe(wav).integrity_reason
    jpg = tmp_path / "cut.jpg"
    jpg.write_bytes(media["jpg"].read_bytes()[:-500])
    result = probe(jpg)
    assert result.integrity == Integrity.INCOMPLETE
    assert "EOI" in result.integrity_reason


def test_text_file_renamed_mp4_is_unparseable(media):
    result = probe(media["text"])
    assert result.integrity == Integrity.UNPARSEABLE
    assert result.integrity_reason
    assert not result.has_video and not result.has_audio


def test_empty_file_is_unparseable(tmp_path):
    path = tmp_path / "empty.MP4"
    path.write_bytes(b"")
    assert probe(path).integrity == Integrity.UNPARSEABLE


def test_a_longer_recording_probes_from_its_index_alone(tmp_path):
    """Metadata only (timing is measured by bench/media_probe.py for 1 h and 4 h):
    the duration of a 60 s file comes from the MP4 index, exactly."""
    long = media_files.make_mp4(tmp_path / "long.mp4", seconds=60, width=64, height=48, fps=5)
    result = probe(long)
    assert result.integrity == Integrity.COMPLETE
    assert abs(result.duration_seconds - 60) < 0.5
