"""A quick readability check at ingest: can the container be opened and one frame decoded?

This is not the media probe (duration, codecs, thumbnails come later); it only
tells a recording that can be played from bytes that cannot, so that a
truncated or corrupt file goes to the quarantine list with a reason instead of
silently becoming a recording nobody can open.
"""

from __future__ import annotations

from pathlib import Path

# The stream a file of each kind must carry.
STREAM_FOR_KIND = {"video": "video", "audio": "audio", "photo": "video"}


def unreadable_reason(path: Path, kind: str) -> str:
    """ "" when the file opens and its first frame decodes, else why not (Chinese)."""
    import av

    wanted = STREAM_FOR_KIND.get(kind)
    if wanted is None:
        return ""
    try:
        with av.open(str(path)) as container:
            streams = [s for s in container.streams if s.type == wanted]
            if not streams:
                what = {"video": "视频", "audio": "音频"}[wanted]
                return f"文件中没有{what}流（文件可能被截断或已损坏）"
            for _frame in container.decode(streams[0]):
                return ""
            return "文件中没有可解码的帧（文件可能被截断或已损坏）"
    except Exception as exc:  # any decoder failure means the same thing here
        return f"无法解码：{type(exc).__name__}: {exc}"[:500]
