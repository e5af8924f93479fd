"""Generate a synthetic, valid sitegen project of N advance records (seeded, deterministic).

    python bench/generate.py N DEST [--seed S]

Every record has a ~3 KB Chinese body with the six sections and a before/after table; years, both lists,
categories, industries, societies and organisations are all exercised. Taxonomies, pages and the theme
are copied from this repository. Years run from 2017 on with up to 10 + 10 advances per year, so
10,000 records span 500 "years" — far more than reality, which is the point of a stress test.
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
WORDS = ("智能 制造 数控 机床 工业 机器人 增材 传感 控制 检测 装配 仓储 物流 故障 诊断 健康 维护 优化 安全 识别 人工智能 "
         "大数据 平台 工业云 数字孪生 标准 汽车 电子 电网 轨道 交通 石油 化工 食品 家电 精度 效率 能耗 质量 协同 "
         "柔性 产线 工艺 模型 算法 边缘 计算 视觉 激光 焊接 加工 装备 系统 平台化 网络化").split()
SECTIONS = ("背景与意义", "创新性与引领性", "应用情况", "经济与社会效益", "发展前景", "知识产权")


def sentence(rng: random.Random, n: int = 24) -> str:
    return "".join(rng.choice(WORDS) for _ in range(n // 2)) + "。"


def body(rng: random.Random) -> str:
    parts = []
    for index, title in enumerate(SECTIONS):
        parts.append(f"## {title}\n")
        parts.append("".join(sentence(rng, 40) for _ in range(4)) + "\n")
        if index == 3:
            parts.append("| 指标 | 应用前 | 应用后 |\n| --- | --- | --- |")
            for metric in ("生产效率", "产品合格率", "单位能耗", "运营成本"):
                parts.append(f"| {metric} | {rng.randint(50, 90)}% | {rng.randint(80, 99)}% |")
            parts.append("")
    return "\n".join(parts)


def generate(n: int, dest: Path, seed: int = 1) -> Path:
    rng = random.Random(seed)
    if dest.exists():
        shutil.rmtree(dest)
    content = dest / "content"
    (content / "years").mkdir(parents=True)
    for name in ("categories.yaml", "industries.yaml", "societies.yaml"):
        shutil.copy(REPO / "content" / name, content / name)
    shutil.copytree(REPO / "content" / "pages", content / "pages")
    shutil.copytree(REPO / "themes", dest / "themes")
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    (dest / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")

    categories = yaml.safe_load((content / "categories.yaml").read_text(encoding="utf-8"))
    sub_keys = sorted(k for v in categories.values() for k in (v.get("children") or {})) or sorted(categories)
    industries = sorted(yaml.safe_load((content / "industries.yaml").read_text(encoding="utf-8")))
    societies = sorted(yaml.safe_load((content / "societies.yaml").read_text(encoding="utf-8")))
    orgs = [f"示例{rng.choice(WORDS)}{rng.choice(WORDS)}科技有限公司{i}" for i in range(max(20, n // 8))]

    for i in range(n):
        year = 2017 + i // 20
        lst = "world" if i % 20 < 10 else "china"
        rank = i % 10 + 1
        folder = content / "advances" / str(year)
        folder.mkdir(parents=True, exist_ok=True)
        if rank == 1 and lst == "world":
            (content / "years" / f"{year}.yaml").write_text(
                f"year: {year}\nrelease:\n  event: {year}世界智能制造大会\n  event_en: {year} World Intelligent "
                f"Manufacturing Conference\ndemo: true\n", encoding="utf-8")
        meta = {
            "title": f"{rng.choice(WORDS)}{rng.choice(WORDS)}{rng.choice(WORDS)}关键技术{i}",
            "title_en": f"Synthetic advance number {i}",
            "year": year, "list": lst, "rank": rank,
            "organizations": sorted(set(rng.sample(orgs, rng.randint(1, 3)))),
            "nominated_by": rng.choice(societies),
            "categories": sorted(set(rng.sample(sub_keys, 2))),
            "industries": sorted(set(rng.sample(industries, 1))),
            "keywords": [rng.choice(WORDS), rng.choice(WORDS) + "技术"],
            "summary": sentence(rng, 50),
            "summary_en": "A synthetic record generated for the benchmark.",
            "demo": True,
        }
        text = "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---\n\n" + body(rng)
        (folder / f"{lst}-{rank:02d}.md").write_text(text, encoding="utf-8")
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.n, args.dest, args.seed)
    print(f"generated {args.n} advances in {args.dest}")


if __name__ == "__main__":
    main()
