"""Words for seeded rows: matters, places, addresses, names and numbers."""

from __future__ import annotations

import random

from jilu.web.scale.plan import GIVEN, SURNAMES, person_name

MATTERS = [
    "占道经营", "店外经营", "违规设置户外广告", "乱堆乱放", "违法建设", "渣土运输抛洒滴漏",
    "餐饮油烟扰民", "夜间施工噪声扰民", "乱张贴乱涂写", "违规停放共享单车", "损坏市政设施",
    "未按规定分类投放垃圾", "擅自占用绿地", "流动摊贩", "违规搭建雨棚", "工地围挡不规范",
]  # fmt: skip
PLACES = [
    "农贸市场", "步行街", "夜市", "地铁站出口", "学校周边", "建筑工地", "小区出入口",
    "公交站台", "商业广场", "老街", "滨江绿道", "菜市场", "医院周边", "城中村",
]  # fmt: skip
STREETS = "中山 人民 解放 建设 和平 胜利 光明 新华 东风 长江 黄河 海滨 滨江 青年 幸福 友谊 振兴 前进 团结 文化".split()
TRADES = ["餐饮店", "便利店", "水果店", "五金店", "汽车美容店", "装饰工程有限公司",
          "建筑工程有限公司", "物业管理有限公司", "商贸有限公司", "烧烤店"]  # fmt: skip


def name(rng: random.Random) -> str:
    return person_name(rng)


def business(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}{rng.choice(TRADES)}"


def address(rng: random.Random, area: str) -> str:
    district = area.split("区")[0] + "区" if "区" in area else area
    return f"{district}{rng.choice(STREETS)}路{rng.randrange(1, 400)}号"


def id_number(rng: random.Random) -> str:
    return f"3502{rng.randrange(10**13):013d}{rng.choice('0123456789X')}"


def credit_code(rng: random.Random) -> str:
    return f"91350{rng.randrange(10**12):012d}{rng.choice('0123456789ABCDEFGH')}"
