"""Derived files: poster and strip for video, waveform for audio, preview for photos,
an H.264 playback copy for H.265 — made by the processing task on both store backends
(issue 4, items 2 and 3)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from jilu.evidence import derive
from jilu.evidence.media import probe
from jilu.evidence.media_models import Derivative, MediaInfo
from jilu.evidence.models import StoredObject
from jilu.evidence.store import get_store
from jilu.evidence.tasks import process_recording
from jilu.evidence.tests import media_files

Kind = Derivative.Kind


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return media_files.sample_media(tmp_path_factory.mktemp("media"))


@pytest.fixture
def local_store(settings, tmp_path):
    from jilu.evidence.tests.conftest import use_store

    return use_store(settings, tmp_path, "file")


@pytest.fixture
def recorder(tree):
    from jilu.devices.actions import register_recorder

    return register_recorder(actor="system:test", serial="A000001", unit=tree["squad1"])


def stored_bytes(obj: StoredObject) -> bytes:
    return b"".join(get_store().open_range(obj.sha256))


def picture(derivative: Derivative) -> Image.Image:
    return Image.open(io.BytesIO(stored_bytes(derivative.stored_object)))


# --- the derive functions on their own ---------------------------------------


def test_poster_and_strip_of_a_video(media, tmp_path):
    poster = derive.poster(media["h264"], tmp_path, duration=2.5)
    assert poster.content_type == "image/jpeg"
    with Image.open(poster.path) as image:
        assert image.format == "JPEG" and image.size == (160, 120)
    strip = derive.strip(media["h264"], tmp_path, duration=2.5, frames=6)
    with Image.open(strip.path) as image:
        assert image.size == (6 * 160, 120)  # six thumbnails side by side
        first, last = image.crop((0, 0, 160, 120)), image.crop((5 * 160, 0, 6 * 160, 120))
        # Spread over the recording, not six copies of the first key frame.
        assert first.tobytes() != last.tobytes()


def test_waveform_of_audio_has_a_shape(media, tmp_path):
    wave = derive.waveform(media["wav"], tmp_path, duration=2.0)
    with Image.open(wave.path) as image:
        assert image.format == "PNG"
        width, height = image.size
        # The tone swells: the drawn band is taller at the end than at the start.
        column = [image.getpixel((x, y)) for x in (20, width - 20) for y in range(height)]
        blue = [
            sum(1 for p in column[i * height : (i + 1) * height] if p == (37, 99, 235))
            for i in (0, 1)
        ]
        assert blue[1] > blue[0] > 0


def test_pictures_are_deterministic(media, tmp_path):
    """Re-running makes the same bytes, so the content-addressed store holds one copy."""
    made = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        made.append(Path(derive.poster(media["h264"], tmp_path / name, duration=2.5).path))
    assert made[0].read_bytes() == made[1].read_bytes()


def test_playback_copy_of_h265_is_h264_aac(media, tmp_path):
    copy = derive.playback(media["h265"], tmp_path)
    result = probe(copy.path)
    assert (result.video_codec, result.audio_codec) == ("h264", "aac")
    assert (result.width, result.height) == (160, 120)
    assert result.duration_seconds == pytest.approx(2.5, abs=0.2)
    assert result.browser_playable


# --- through the processing task, on both stores ------------------------------


def test_video_gets_poster_and_strip(db, store, recorder, media):
    rec = media_files.make_recording(media["h264"], recorder=recorder)
    process_recording.call(rec.pk)
    kinds = dict(rec.derivatives.values_list("kind", "content_type"))
    assert kinds == {Kind.POSTER: "image/jpeg", Kind.STRIP: "image/jpeg"}  # H.264: no copy
    poster = rec.derivatives.get(kind=Kind.POSTER)
    assert picture(poster).size == (poster.width, poster.height) == (160, 120)
    assert picture(rec.derivatives.get(kind=Kind.STRIP)).width == 160 * derive.STRIP_FRAMES


def test_h265_gets_a_playable_h264_copy_labelled_derived(db, store, recorder, media, tmp_path):
    rec = media_files.make_recording(media["h265"], recorder=recorder)
    process_recording.call(rec.pk)
    rec.media.refresh_from_db()
    assert rec.media.video_codec == "hevc" and not rec.media.browser_playable
    copy = rec.derivatives.get(kind=Kind.PLAYBACK)
    assert copy.content_type == "video/mp4"
    assert "派生" in copy.get_kind_display()
    assert copy.stored_object_id != rec.stored_object_id  # the original stays as it is
    path = tmp_path / "copy.mp4"
    path.write_bytes(stored_bytes(copy.stored_object))
    result = probe(path)
    assert result.video_codec == "h264" and result.audio_codec == "aac"
    assert result.browser_playable
    # The original is still stored, untouched and downloadable.
    assert stored_bytes(rec.stored_object) == media["h265"].read_bytes()


def test_audio_gets_a_waveform(db, store, recorder, media):
    rec = media_files.make_recording(media["wav"], recorder=recorder, kind="audio")
    process_recording.call(rec.pk)
    wave = rec.derivatives.get()
    assert wave.kind == Kind.WAVEFORM and wave.content_type == "image/png"
    assert picture(wave).format == "PNG"


def test_photo_gets_a_preview(db, store, recorder, media):
    rec = media_files.make_recording(media["jpg"], recorder=recorder, kind="photo")
    process_recording.call(rec.pk)
    preview = rec.derivatives.get()
    assert preview.kind == Kind.PREVIEW and picture(preview).size == (320, 240)
    rec.refresh_from_db()
    assert rec.ended_at == rec.started_at  # a photo is an instant


def test_damaged_and_foreign_files_are_kept_and_get_no_pictures(db, store, recorder, media):
    """C6.5.4: nothing is thrown away; the state says what is wrong."""
    cut = media_files.make_recording(media["truncated"], recorder=recorder)
    text = media_files.make_recording(media["text"], recorder=recorder)
    process_recording.call(cut.pk)
    process_recording.call(text.pk)
    assert MediaInfo.objects.get(recording=cut).integrity == MediaInfo.Integrity.INCOMPLETE
    assert MediaInfo.objects.get(recording=text).integrity == MediaInfo.Integrity.UNPARSEABLE
    assert not Derivative.objects.filter(recording__in=[cut, text]).exists()
    assert stored_bytes(cut.stored_object) == media["truncated"].read_bytes()


def test_frames_that_do_not_decode_make_the_recording_incomplete(
    db, local_store, recorder, tmp_path
):
    """The probe reads the index only; decoding for the poster is where a garbled
    card shows: the recording becomes 不完整 with the decoder's reason, kept as is."""
    path = media_files.make_garbled_mp4(tmp_path / "garbled.MP4")
    rec = media_files.make_recording(path, recorder=recorder)
    assert process_recording.call(rec.pk) == MediaInfo.Integrity.INCOMPLETE
    info = MediaInfo.objects.get(recording=rec)
    assert "无法解码" in info.integrity_reason and info.last_error == ""
    assert not info.browser_playable
    assert not rec.derivatives.exists()
    assert stored_bytes(rec.stored_object) == path.read_bytes()


def test_index_reader_agrees_with_ffmpeg(media):
    """The fast MP4 index reader reports what FFmpeg reports for the same files."""
    import av

    for name in ("h264", "h265"):
        result = probe(media[name])
        with av.open(str(media[name])) as container:
            video = container.streams.video[0]
            audio = container.streams.audio[0]
            assert result.video_codec == video.codec_context.name
            assert result.audio_codec == audio.codec_context.name
            assert (result.width, result.height) == (
                video.codec_context.width,
                video.codec_context.height,
            )
            assert result.fps == pytest.approx(float(video.average_rate), rel=0.01)
            assert result.duration_seconds == pytest.approx(container.duration / 1e6, abs=0.05)
