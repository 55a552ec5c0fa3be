#!/usr/bin/env python3
"""Build the bundled model catalog from the reference snapshots, reproducibly.

    python tools/build_catalog.py [--shared ../shared/data] [--out DIR]

Reads the models.dev snapshot (and its price history), the LiteLLM price maps and the OpenRouter
/models snapshot, and rewrites ``<out>/models/<provider>/*.yaml`` and ``<out>/pricing/*.yaml``
(``<out>`` defaults to the package's catalog data). Stale ``*.yaml`` there are deleted first.
Output is deterministic: rerunning it gives byte-identical files.

The curated table below holds the judgement (which models, speed/quality classes, aliases,
advice, which source wins where the sources disagree and why); the code under it is generic.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

try:
    from modelrouter.catalog.pricing import PricingFile
    from modelrouter.catalog.schema import Capability, ModelSpec
except ImportError:  # not installed: use the source tree beside this script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from modelrouter.catalog.pricing import PricingFile
    from modelrouter.catalog.schema import Capability, ModelSpec

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "src" / "modelrouter" / "catalog" / "data"
DEFAULT_SHARED = ROOT.parent / "shared" / "data"
LAST_VERIFIED = date(2026, 11, 25)
LITELLM_FILES = (  # newest first; an entry missing from the newest falls back to the older one
    ("litellm-1.109.1", "model_prices_and_context_window.json"),
    ("litellm-1.100.0", "model_prices_and_context_window.litellm-1.100.0.json"),
)
OPENROUTER_LABEL = "openrouter-2026-05-15"  # when models.dev's sync script fetched the snapshot
PROVIDERS = ("openai", "anthropic", "google", "groq", "cohere", "mistral", "deepseek", "openrouter")

# --------------------------------------------------------------------------- curated table

C, M, CM = ("code_generation",), ("math_reasoning",), ("code_generation", "math_reasoning")
THINK = "Reasoning tokens are billed as output tokens; leave room in max output tokens."
FREE = ("Free variant: shared capacity with per-minute and daily request limits; it can be "
        "rate-limited or withdrawn without notice, so keep a paid fallback.")
TIER_272K = ("Prompts above 272,000 input tokens are billed at the long-context rate (2x input, "
             "1.5x output) for the whole request.")
TIER_200K = ("Prompts above 200,000 input tokens are billed at the long-context rate for the "
             "whole request.")
AUDIO = "models.dev also lists an audio-input price of {} per 1M tokens (not modelled)."
DEEPSEEK_WHY = ("models.dev records DeepSeek's V4 repricing (2026-04-25) and 1M context; "
                "LiteLLM still carries the V3.2 prices and limits")


def m(provider: str, model: str, speed: str, quality: str, caps: tuple[str, ...] = (),
      *rec: str, **kw: Any) -> dict[str, Any]:
    """One curated entry. ``kw``: aliases, version, tips, pitfalls, notes; md (models.dev key),
    ll (LiteLLM key for metadata), ll_price (LiteLLM key for prices), price / ctx ("litellm":
    take prices / token limits from LiteLLM), why (reason for the source choice), meta
    (metadata overrides)."""
    return {"provider": provider, "model": model, "speed": speed, "quality": quality,
            "caps": caps, "rec": rec, **kw}


MODELS: list[dict[str, Any]] = [
    # ---------------------------------------------------------------- OpenAI
    m("openai", "gpt-5", "standard", "frontier", CM, "complex reasoning", "coding", "agents",
      tips=("Set reasoning_effort to minimal or low for latency-sensitive calls.",),
      pitfalls=(THINK, "No temperature/top_p: reasoning models ignore sampling knobs.")),
    m("openai", "gpt-5-mini", "fast", "high", CM, "general chat", "coding assistance",
      "cost-sensitive reasoning", pitfalls=(THINK,)),
    m("openai", "gpt-5-nano", "fast", "basic", (), "classification", "extraction", "routing",
      pitfalls=(THINK,)),
    m("openai", "gpt-5.1", "standard", "frontier", CM, "complex reasoning", "coding", "agents",
      pitfalls=(THINK,)),
    m("openai", "gpt-5.2", "standard", "frontier", CM, "complex reasoning", "coding", "agents",
      pitfalls=(THINK,)),
    m("openai", "gpt-5.4", "standard", "frontier", CM, "long-context analysis", "coding",
      "agents", pitfalls=(TIER_272K, THINK)),
    m("openai", "gpt-5.4-mini", "fast", "high", CM, "general chat", "coding assistance"),
    m("openai", "gpt-5.4-nano", "fast", "basic", (), "classification", "extraction", "routing"),
    m("openai", "gpt-5.5", "standard", "frontier", CM, "hardest reasoning", "coding", "agents",
      pitfalls=(TIER_272K, THINK)),
    m("openai", "gpt-4.1", "standard", "high", C, "long documents", "instruction following",
      tips=("1M-token context without reasoning overhead; good for large-document Q&A.",)),
    m("openai", "gpt-4.1-mini", "fast", "standard", (), "general chat", "long documents"),
    m("openai", "gpt-4.1-nano", "fast", "basic", (), "classification", "autocomplete"),
    m("openai", "gpt-4o", "standard", "high", (), "multimodal chat", "general assistant"),
    m("openai", "gpt-4o-mini", "fast", "standard", (), "cheap chat", "extraction", "summaries"),
    m("openai", "o3", "slow", "frontier", CM, "math", "science", "multi-step reasoning",
      pitfalls=(THINK, "High latency: seconds to minutes per answer.")),
    m("openai", "o3-mini", "slow", "high", CM, "math", "coding puzzles",
      pitfalls=(THINK, "Text input only (no images).")),
    m("openai", "o4-mini", "slow", "high", CM, "math", "coding", "visual reasoning",
      pitfalls=(THINK,)),
    # ---------------------------------------------------------------- Anthropic
    m("anthropic", "claude-opus-4-7", "slow", "frontier", CM, "hardest coding and agent tasks",
      aliases=("opus-4-7",)),
    m("anthropic", "claude-opus-4-6", "slow", "frontier", CM, "hardest coding and agent tasks",
      aliases=("opus-4-6",)),
    m("anthropic", "claude-opus-4-5", "slow", "frontier", CM, "complex coding", "agents",
      version="20251101", aliases=("opus-4-5", "claude-opus-4-5-20251101")),
    m("anthropic", "claude-opus-4-1", "slow", "frontier", C, "complex coding", "agents",
      version="20250805", aliases=("opus-4-1", "claude-opus-4-1-20250805"),
      pitfalls=("Costs 3x Opus 4.5 for similar or lower quality; prefer a newer Opus.",)),
    m("anthropic", "claude-sonnet-4-6", "standard", "frontier", C, "coding", "agents",
      aliases=("sonnet-4-6",)),
    m("anthropic", "claude-sonnet-4-5", "standard", "frontier", C, "coding", "agents",
      version="20250929", aliases=("claude-sonnet-4-5", "sonnet-4-5", "claude-sonnet-4-5-20250929"),
      tips=("Use prompt caching for long, repeated system prompts.",),
      notes=("No long-context tier: models.dev and LiteLLM 1.109.1's first-party entry list none "
             "(LiteLLM 1.100.0's had 6/22.50 above 200,000; 1.109.1 dropped it) and the window "
             "is 200,000 tokens, so 1,000,000 input + 1,000,000 output tokens cost exactly "
             "$18.00. The 1M-context beta is the separate anthropic:claude-sonnet-4-5-1m.",)),
    m("anthropic", "claude-sonnet-4-5-1m", "standard", "frontier", C,
      "whole-repository or book-length context", version="20250929", aliases=("sonnet-4-5-1m",),
      md="claude-sonnet-4-5", ll="claude-sonnet-4-5", ll_price="claude-sonnet-4-5-20250929-v1:0",
      price="litellm",
      meta={"name": "Claude Sonnet 4.5 (1M context beta)", "api_identifier": "claude-sonnet-4-5",
            "context_window_input": 1_000_000},
      pitfalls=("needs the anthropic-beta: context-1m-2025-08-07 header",
                "Prompts above 200,000 input tokens are billed at 2x input and 1.5x output for "
                "the whole request."),
      notes=("Same API model as anthropic:claude-sonnet-4-5 with the 1M-context beta enabled; "
             "context_window_input 1,000,000 is set here (the sources list 200,000).",),
      why=("the long-context tier is not in Anthropic's first-party entries; LiteLLM 1.109.1's "
           "claude-sonnet-4-5-20250929-v1:0 (Bedrock) and vertex_ai/claude-sonnet-4-5 both list "
           "3/15 (cache 0.30/3.75) and above 200,000 input tokens 6/22.50 (cache 0.60/7.50)")),
    m("anthropic", "claude-sonnet-4-0", "standard", "high", C, "coding", "general assistant",
      version="20250514", aliases=("sonnet-4", "claude-sonnet-4-20250514"),
      ll="claude-sonnet-4-20250514"),
    m("anthropic", "claude-haiku-4-5", "fast", "high", C, "fast assistants", "sub-agents",
      version="20251001", aliases=("haiku-4-5", "claude-haiku-4-5-20251001")),
    # ---------------------------------------------------------------- Google
    m("google", "gemini-2.5-pro", "standard", "frontier", CM, "long-context reasoning", "coding",
      pitfalls=(TIER_200K, THINK)),
    m("google", "gemini-2.5-flash", "fast", "high", (), "fast multimodal chat", "summaries",
      notes=(AUDIO.format("1.00"),)),
    m("google", "gemini-2.5-flash-lite", "fast", "basic", (), "classification",
      "high-volume extraction", notes=(AUDIO.format("0.30"),)),
    m("google", "gemini-3-pro-preview", "standard", "frontier", CM, "long-context reasoning",
      pitfalls=(TIER_200K,)),
    m("google", "gemini-3.1-pro-preview", "standard", "frontier", CM, "long-context reasoning",
      "coding", "agents", pitfalls=(TIER_200K,)),
    m("google", "gemini-3-flash-preview", "fast", "high", C, "fast multimodal chat", "agents",
      notes=(AUDIO.format("1.00"),)),
    m("google", "gemini-2.0-flash", "fast", "standard", (), "cheap multimodal chat"),
    # ---------------------------------------------------------------- Groq
    m("groq", "llama-3.1-8b-instant", "fast", "basic", (), "low-latency chat", "classification"),
    m("groq", "llama-3.3-70b-versatile", "fast", "standard", (), "fast general chat"),
    m("groq", "meta-llama/llama-4-scout-17b-16e-instruct", "fast", "standard", (),
      "fast multimodal chat"),
    m("groq", "openai/gpt-oss-120b", "fast", "high", CM, "fast reasoning", "coding", "tool use"),
    m("groq", "openai/gpt-oss-20b", "fast", "standard", CM, "fast cheap reasoning"),
    m("groq", "qwen/qwen3-32b", "fast", "standard", CM, "fast reasoning", "multilingual chat"),
    # ---------------------------------------------------------------- Cohere
    m("cohere", "command-a-03-2025", "standard", "high", (), "RAG with citations", "tool use",
      aliases=("command-a",)),
    m("cohere", "command-a-reasoning-08-2025", "slow", "high", M, "agentic reasoning", "RAG",
      aliases=("command-a-reasoning",), pitfalls=(THINK,)),
    m("cohere", "command-r-plus-08-2024", "standard", "standard", (), "RAG", "tool use",
      aliases=("command-r-plus",)),
    m("cohere", "command-r-08-2024", "fast", "standard", (), "cheap RAG", aliases=("command-r",)),
    m("cohere", "command-r7b-12-2024", "fast", "basic", (), "cheap RAG", "classification",
      aliases=("command-r7b",)),
    # ---------------------------------------------------------------- Mistral
    m("mistral", "mistral-large-latest", "standard", "high", C, "general assistant",
      "multilingual", aliases=("mistral-large",)),
    m("mistral", "mistral-medium-latest", "standard", "high", C, "general assistant",
      aliases=("mistral-medium",), md="mistral-medium-2604", price="litellm",
      meta={"name": "Mistral Medium (latest)"},
      why=("the -latest alias now serves Mistral Medium 3.5: LiteLLM cites its model card and "
           "models.dev's own mistral-medium-2604 entry says 1.5/7.5, while models.dev's "
           "mistral-medium-latest entry still describes Medium 3.1 at 0.4/2; LiteLLM also has "
           "the cache-read rate. Specs are models.dev's mistral-medium-2604")),
    m("mistral", "mistral-small-latest", "fast", "standard", (), "cheap chat", "extraction"),
    m("mistral", "codestral-latest", "fast", "standard", C, "code completion", "fill-in-the-middle",
      aliases=("codestral",),
      why=("models.dev is the primary source; OpenRouter's mistralai/codestral-2508 also says "
           "256,000 context")),
    m("mistral", "ministral-8b-latest", "fast", "basic", (), "edge-sized tasks", "classification",
      aliases=("ministral-8b",), price="litellm", ctx="litellm",
      meta={"name": "Ministral 8B (latest)", "release_date": "2025-12-02",
            "knowledge_cutoff": None},
      why=("the alias now serves Ministral 3 8B (2512): LiteLLM and OpenRouter's "
           "mistralai/ministral-8b-2512 both say 0.15/0.15 with 262,144 context; models.dev's "
           "entry still describes the 2024 Ministral 8B. Release date set to 2025-12-02, "
           "Ministral 3's release per models.dev's OpenRouter entry")),
    m("mistral", "magistral-medium-latest", "slow", "high", M, "step-by-step reasoning", "math",
      aliases=("magistral-medium",), pitfalls=(THINK,),
      why=("models.dev is primary and agrees with LiteLLM 1.100.0; LiteLLM 1.109.1's entry cites "
           "the Mistral Medium 3.5 card and looks copied from mistral-medium-latest")),
    # ---------------------------------------------------------------- DeepSeek
    m("deepseek", "deepseek-chat", "standard", "high", C, "cheap general chat", "coding",
      why=DEEPSEEK_WHY),
    m("deepseek", "deepseek-reasoner", "slow", "high", CM, "cheap reasoning", "math", "coding",
      pitfalls=(THINK,), why=DEEPSEEK_WHY),
    # ---------------------------------------------------------------- OpenRouter (free)
    *(m("openrouter", f"{model}:free", speed, quality, caps, *rec) for model, speed, quality,
      caps, *rec in (
        ("meta-llama/llama-3.3-70b-instruct", "standard", "standard", (), "free general chat"),
        ("meta-llama/llama-3.2-3b-instruct", "fast", "basic", (), "free simple tasks"),
        ("nousresearch/hermes-3-llama-3.1-405b", "slow", "high", (), "free chat", "role play"),
        ("openai/gpt-oss-120b", "standard", "high", CM, "free reasoning", "tool use"),
        ("openai/gpt-oss-20b", "fast", "standard", CM, "free reasoning"),
        ("qwen/qwen3-coder", "standard", "high", C, "free coding", "agents"),
        ("qwen/qwen3-next-80b-a3b-instruct", "fast", "high", (), "free chat", "structured output"),
        ("z-ai/glm-4.5-air", "standard", "high", C, "free coding", "agents"),
        ("google/gemma-4-31b-it", "standard", "standard", (), "free multimodal chat"),
        ("google/gemma-4-26b-a4b-it", "fast", "standard", (), "free multimodal chat"),
        ("deepseek/deepseek-v4-flash", "standard", "high", CM, "free reasoning", "coding"),
        ("minimax/minimax-m2.5", "standard", "high", C, "free coding", "agents"),
        ("nvidia/nemotron-3-super-120b-a12b", "standard", "high", M, "free reasoning"),
        ("nvidia/nemotron-nano-9b-v2", "fast", "basic", (), "free simple tasks"),
        ("nvidia/nemotron-nano-12b-v2-vl", "fast", "basic", (), "free image understanding"),
    )),
]

MODEL_PAGES = {
    "openai": "https://platform.openai.com/docs/models/{m}",
    "groq": "https://console.groq.com/docs/model/{m}",
    "openrouter": "https://openrouter.ai/{m}",
}
PRICING_PAGES = {
    "openai": "https://platform.openai.com/docs/pricing", "groq": "https://groq.com/pricing",
    "anthropic": "https://docs.anthropic.com/en/docs/about-claude/pricing",
    "google": "https://ai.google.dev/gemini-api/docs/pricing", "openrouter": "https://openrouter.ai/{m}",
    "cohere": "https://cohere.com/pricing", "mistral": "https://mistral.ai/pricing",
    "deepseek": "https://api-docs.deepseek.com/quick_start/pricing",
}
LITELLM_PREFIX = {"google": "gemini/", "groq": "groq/", "mistral": "mistral/",
                  "deepseek": "deepseek/"}
JSON_MODE = {"openai", "google", "mistral", "deepseek", "groq", "cohere"}
BATCH = {"openai", "anthropic", "google", "mistral"}
MD_PRIMARY = "models.dev is the primary source for first-party providers"
NOTE_HISTORY = ("effective_date is the date the models.dev catalogue changed (its git commit "
                "date, from price_history_targets.json), not the vendor's announcement date")
NOTE_SNAPSHOT = ("effective_date is the models.dev snapshot commit date: the snapshot's price "
                 "differs from the last row of its price history")
NOTE_ALIAS = ("effective_date is models.dev's last_updated date for this -latest alias; it may "
              "have pointed at older, differently priced models before")
NOTE_RELEASE = ("effective_date is the model's release date; the sources record no earlier "
                "price, so the snapshot price is taken to hold since release")

NOTE_CORRECTION = "corrected by a models.dev data fix"
CORRECTION_WINDOW_DAYS = 14


def is_correction(row: dict[str, Any], old: Price, new: Price, previous: date,
                  when: date) -> bool:
    """A data correction, not a price change: within two weeks of the price it changes, a
    commit titled as a fix, or one that only fills in prices that were missing."""
    if (when - previous).days > CORRECTION_WINDOW_DAYS:
        return False
    if "fix" in str(row.get("subject", "")).lower():
        return True
    changed = [f for f in (*PRICE_FIELDS, "tiers")
               if field_value(old, f) != field_value(new, f)]
    return all(field_value(old, f) in (None, ()) for f in changed)


# --------------------------------------------------------------------------- sources

PRICE_FIELDS = ("input", "output", "cache_read", "cache_write")
Price = dict[str, Any]  # PRICE_FIELDS -> Decimal | None, "tiers" -> list of dicts


def dec(value: Any) -> Decimal:
    return Decimal(str(value)).normalize()


def fmt(value: Decimal) -> str:
    """``3``, ``0.30``, ``22.50``, ``0.125``: exact, at least two decimals when fractional."""
    text = format(value.normalize(), "f")
    return text + "0" if re.fullmatch(r"\d+\.\d", text) else text


def as_date(value: Any) -> date | None:
    ok = isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)
    return date.fromisoformat(value) if ok else None


def cutoff(value: Any) -> str | None:
    ok = isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", value)
    return value if ok else None


class Sources:
    def __init__(self, shared: Path) -> None:
        def load(rel: str) -> Any:  # Decimal floats: prices exactly as written in the JSON
            return json.loads((shared / rel).read_text(encoding="utf-8"), parse_float=Decimal)

        snap = load("models_dev/models_dev_snapshot.json")
        self.md = snap["providers"]
        self.md_label = "models.dev@" + snap["snapshot"]["commit"][:7]
        committed = datetime.fromisoformat(snap["snapshot"]["commit_date"])
        self.md_date = committed.astimezone(UTC).date()
        self.history = load("models_dev/price_history_targets.json")["history"]
        self.litellm = [(label, load("litellm/" + name)) for label, name in LITELLM_FILES]
        self.openrouter = {e["id"]: e for e in load("openrouter/models_api_snapshot.json")["data"]}

    def ll(self, key: str) -> tuple[str | None, dict[str, Any] | None]:
        for label, table in self.litellm:
            if key in table:
                return label, table[key]
        return None, None


def md_price(cost: dict[str, Any]) -> Price:
    """A models.dev ``cost`` table (current or historical field names) as a price."""
    price: Price = {"input": dec(cost["input"]), "output": dec(cost["output"])}
    cache_read = cost.get("cache_read")
    if cache_read is None and cost.get("inputCached"):  # old name; its 0.0 was a placeholder
        cache_read = cost["inputCached"]  # (outputCached is ignored)
    price["cache_read"] = None if cache_read is None else dec(cache_read)
    price["cache_write"] = None if cost.get("cache_write") is None else dec(cost["cache_write"])
    raw = cost.get("tiers") or (
        [{**cost["context_over_200k"], "tier": {"size": 200_000}}]
        if cost.get("context_over_200k") else [])
    tiers = []
    for tier in raw:  # {"tier": {"size": N}} now, {"context": {"min": N}} in one old commit
        size = (tier.get("tier") or {}).get("size") or (tier.get("context") or {}).get("min")
        tiers.append({"above_input_tokens": int(size), **{
            k: None if tier.get(k) is None else dec(tier[k]) for k in PRICE_FIELDS}})
    price["tiers"] = sorted(tiers, key=lambda t: t["above_input_tokens"])
    return price


LL_NAMES = {"input": "input_cost_per_token", "output": "output_cost_per_token",
            "cache_read": "cache_read_input_token_cost",
            "cache_write": "cache_creation_input_token_cost"}


def ll_price(entry: dict[str, Any]) -> Price:
    """A LiteLLM entry (USD per token) as a price in USD per 1M tokens."""
    def per_m(key: str) -> Decimal | None:
        value = entry.get(key)
        return None if value is None else (Decimal(str(value)) * 1_000_000).normalize()

    price: Price = {k: per_m(v) for k, v in LL_NAMES.items()}
    tiers = []
    for key in entry:
        found = re.fullmatch(r"input_cost_per_token_above_(\d+)k_tokens", key)
        if found:
            suffix = f"_above_{found.group(1)}k_tokens"
            tiers.append({"above_input_tokens": int(found.group(1)) * 1000,
                          **{k: per_m(v + suffix) for k, v in LL_NAMES.items()}})
    price["tiers"] = sorted(tiers, key=lambda t: t["above_input_tokens"])
    return price


def field_value(price: Price, field: str) -> Any:
    if field != "tiers":
        return price[field]
    return tuple(tuple(t[k] for k in ("above_input_tokens", *PRICE_FIELDS))
                 for t in price["tiers"])


def price_key(price: Price) -> tuple[Any, ...]:
    return tuple(field_value(price, f) for f in (*PRICE_FIELDS, "tiers"))


def describe(price: Price, field: str) -> str:
    if field != "tiers":
        return "none" if price[field] is None else fmt(price[field])
    return "; ".join(f"above {t['above_input_tokens']:,}: " + ", ".join(
        f"{k} {fmt(t[k])}" for k in PRICE_FIELDS if t[k] is not None)
        for t in price["tiers"]) or "no tier"


def price_entry(price: Price, source: str) -> dict[str, Any]:
    out: dict[str, Any] = {k: Q(fmt(price[k])) for k in PRICE_FIELDS if price[k] is not None}
    if price["tiers"]:
        out["tiers"] = [{"above_input_tokens": t["above_input_tokens"],
                         **{k: Q(fmt(t[k])) for k in PRICE_FIELDS if t[k] is not None}}
                        for t in price["tiers"]]
    out["source"] = source
    return out


# --------------------------------------------------------------------------- building

Versions = list[tuple[date, Price, str, str]]  # (effective date, price, source, note)


def build_first_party(src: Sources, cur: dict[str, Any]) -> tuple[dict[str, Any], Versions]:
    provider, model = cur["provider"], cur["model"]
    md_key = cur.get("md", model)
    md = src.md[provider]["models"][md_key]
    ll_key = cur.get("ll", LITELLM_PREFIX.get(provider, "") + model)
    ll_label, ll_entry = src.ll(ll_key)
    ll = ll_entry or {}
    pl_key = cur.get("ll_price", ll_key)
    pl_label, pl = src.ll(pl_key)
    md_p, ll_p = md_price(md["cost"]), (ll_price(pl) if pl else None)
    use_ll = cur.get("price") == "litellm"
    if use_ll and (ll_p is None or pl_label is None):
        raise SystemExit(f"{provider}:{model}: no LiteLLM entry {pl_key!r}")
    chosen = str(pl_label) if use_ll else src.md_label
    current: Price = ll_p if use_ll and ll_p else md_p
    why = cur.get("why", MD_PRIMARY)
    notes = list(cur.get("notes", ()))

    # Where the sources disagree: what each says, which one is used and why.
    if ll_p is None:
        notes.append(f"LiteLLM has no entry {pl_key!r}; prices from models.dev only.")
    else:
        if pl_label != LITELLM_FILES[0][0]:
            notes.append(f"{LITELLM_FILES[0][0]} has no entry {pl_key!r}; "
                         f"compared with {pl_label}.")
        diffs = [f"{f} {describe(md_p, f)} vs {describe(ll_p, f)}"
                 for f in (*PRICE_FIELDS, "tiers") if field_value(md_p, f) != field_value(ll_p, f)]
        if diffs:
            notes.append(f"Price disagreement ({src.md_label} {provider}/{md_key} vs {pl_label} "
                         f"{pl_key}): {'; '.join(diffs)}. Chose {chosen}: {why}.")
    limit = md["limit"]
    md_in, md_out = int(limit.get("input") or limit["context"]), int(limit["output"])
    ll_in, ll_out = ll.get("max_input_tokens"), ll.get("max_output_tokens")
    use_ll_ctx = cur.get("ctx") == "litellm" and bool(ll_in and ll_out)
    meta_override = cur.get("meta", {})
    context_note = f" (limit.context {int(limit['context']):,})" if limit.get("input") else ""
    diffs = [f"{field} {mine:,}{extra} vs {int(theirs):,}" for field, mine, theirs, extra in (
        ("context_window_input", md_in, ll_in, context_note),
        ("context_window_output", md_out, ll_out, ""))
        if field not in meta_override and theirs is not None and int(theirs) != mine]
    if diffs:
        reason = cur["why"] if cur.get("why") else "models.dev is the primary spec source"
        notes.append(f"Limit disagreement ({src.md_label} {provider}/{md_key} vs {ll_label} "
                     f"{ll_key}): {'; '.join(diffs)}. "
                     f"Chose {ll_label if use_ll_ctx else src.md_label}: {reason}.")

    inputs = set(md.get("modalities", {}).get("input", ()))
    flags = {
        "image_input": "image" in inputs or ll.get("supports_vision"),
        "audio_input": "audio" in inputs,
        "video_input": "video" in inputs,
        "document_input": "pdf" in inputs or ll.get("supports_pdf_input"),
        "structured_output": md.get("structured_output") or ll.get("supports_response_schema"),
        "function_calling": md.get("tool_call") or ll.get("supports_function_calling"),
        "json_mode": provider in JSON_MODE,
        "batch_api": provider in BATCH or any(k.endswith("_batches") for k in ll),
        "prompt_caching": current["cache_read"] is not None,
        "extended_thinking": md.get("reasoning") or ll.get("supports_reasoning"),
    }
    caps = {cap for cap, present in flags.items() if present}

    deprecation = as_date(ll.get("deprecation_date"))
    if (deprecation and deprecation < LAST_VERIFIED) or md.get("status") == "deprecated":
        status = "deprecated"
    elif "preview" in model or md.get("status") in ("alpha", "beta"):
        status = "preview"
    else:
        status = "active"
    metadata: dict[str, Any] = {
        "name": md["name"], "version": cur.get("version"), "api_identifier": model,
        "context_window_input": int(ll_in) if use_ll_ctx else md_in,
        "context_window_output": int(ll_out) if use_ll_ctx else md_out,
        "knowledge_cutoff": cutoff(md.get("knowledge")),
        "release_date": as_date(md.get("release_date")), "deprecation_date": deprecation,
    }
    for key, value in meta_override.items():
        metadata[key] = as_date(value) if key == "release_date" else value
    pricing_page = ll["source"] if "pricing" in str(ll.get("source", "")) else (
        PRICING_PAGES[provider])
    spec = finish_spec(cur, metadata, caps, status, notes,
                       src.md_label + (f", {ll_label}" if use_ll_ctx else ""), chosen,
                       MODEL_PAGES.get(provider, src.md[provider]["doc"]).format(m=model),
                       pricing_page)

    # Price versions: the models.dev history for models.dev-priced models, else one version.
    versions: Versions = []
    rows = None if use_ll else src.history.get(f"{provider}/{md_key}")
    if rows:
        by_day = {r["commit_date"]: r for r in rows if r.get("cost") and not r.get("removed")}
        for day, row in sorted(by_day.items()):  # the day's last commit wins
            price = md_price(row["cost"])
            if versions and price_key(versions[-1][1]) == price_key(price):
                continue
            when = date.fromisoformat(day)
            label = f"models.dev commit {row['commit']}"
            if versions and is_correction(row, versions[-1][1], price, versions[-1][0], when):
                # A data fix days after a price was entered corrects it; it is no price change.
                start, _, _, note = versions[-1]
                versions[-1] = (start, price, label, f"{note}; {NOTE_CORRECTION} on {day}")
                continue
            versions.append((when, price, label, NOTE_HISTORY))
        released = metadata["release_date"]
        if released and versions[0][0] > released:
            first = versions[0]
            versions[0] = (released, first[1], first[2],
                           f"{NOTE_RELEASE}; first catalogued on {first[0].isoformat()}")
        if price_key(versions[-1][1]) != price_key(current):
            versions.append((src.md_date, current, src.md_label, NOTE_SNAPSHOT))
        plural = "s" if len(versions) > 1 else ""
        spec["provenance"]["notes"].append(
            f"Price history: {len(versions)} version{plural} from models.dev's git history; "
            "effective dates are catalogue change dates, not vendor announcement dates.")
    else:
        start, note = metadata["release_date"] or src.md_date, NOTE_RELEASE
        updated = as_date(md.get("last_updated"))
        if (model.endswith("-latest") and "release_date" not in meta_override and updated
                and updated > start):
            start, note = updated, NOTE_ALIAS
        versions.append((start, current, chosen, note))
    return spec, versions


def build_openrouter(src: Sources, cur: dict[str, Any]) -> tuple[dict[str, Any], Versions]:
    model = cur["model"]
    entry = src.openrouter[model]
    if (entry["pricing"]["prompt"], entry["pricing"]["completion"]) != ("0", "0"):
        raise SystemExit(f"openrouter:{model} is not free in the snapshot")
    if entry["architecture"]["output_modalities"] != ["text"]:
        raise SystemExit(f"openrouter:{model} does not output text only")
    inputs = set(entry["architecture"]["input_modalities"])
    params = set(entry.get("supported_parameters") or ())
    caps = {cap for key, cap in (
        ("image", "image_input"), ("audio", "audio_input"), ("video", "video_input"),
        ("file", "document_input")) if key in inputs}
    caps |= {cap for key, cap in (
        ("tools", "function_calling"), ("response_format", "json_mode"),
        ("structured_outputs", "structured_output"), ("reasoning", "extended_thinking"))
        if key in params}
    notes = list(cur.get("notes", ()))
    context = int(entry["context_length"])
    output = (entry.get("top_provider") or {}).get("max_completion_tokens")
    if not output:
        notes.append("OpenRouter gives no max_completion_tokens; output limit set to the "
                     "context length.")
    created = datetime.fromtimestamp(int(entry["created"]), UTC).date()
    expiry = as_date(entry.get("expiration_date"))
    status = "deprecated" if expiry and expiry < LAST_VERIFIED else (
        "preview" if "preview" in model else "active")
    metadata = {
        "name": entry["name"], "api_identifier": model, "context_window_input": context,
        "context_window_output": int(output or context),
        "knowledge_cutoff": cutoff(entry.get("knowledge_cutoff")), "release_date": created,
        "deprecation_date": expiry,
    }
    page = MODEL_PAGES["openrouter"].format(m=model)
    cur = {**cur, "pitfalls": (*cur.get("pitfalls", ()), FREE)}
    spec = finish_spec(cur, metadata, caps, status, notes, OPENROUTER_LABEL, OPENROUTER_LABEL,
                       page, page)
    spec["free"] = True
    free: Price = {"input": Decimal(0), "output": Decimal(0), "cache_read": None,
                   "cache_write": None, "tiers": []}
    return spec, [(created, free, OPENROUTER_LABEL, NOTE_RELEASE)]


def finish_spec(cur: dict[str, Any], metadata: dict[str, Any], caps: set[str], status: str,
                notes: list[str], specs: str, pricing: str, model_page: str,
                pricing_page: str) -> dict[str, Any]:
    """The model file's document, keys in a fixed order, empty fields left out."""
    provider, model = cur["provider"], cur["model"]
    metadata = {**metadata, "aliases": Flow(cur.get("aliases", ())),
                "last_verified": LAST_VERIFIED}
    order = ("name", "version", "api_identifier", "aliases", "context_window_input",
             "context_window_output", "knowledge_cutoff", "release_date", "deprecation_date",
             "last_verified")
    context = metadata["context_window_input"]
    caps |= {"text_input", "text_output", "streaming", "system_messages", *cur["caps"]}
    caps |= {"large_context"} if context > 100_000 else set()
    caps |= {"extra_large_context"} if context >= 1_000_000 else set()
    optimization = {key: list(cur.get(field, ())) for key, field in (
        ("recommended_for", "rec"), ("tips", "tips"), ("pitfalls", "pitfalls"))
        if cur.get(field)}
    return {
        "model_id": f"{provider}:{model}", "provider": provider, "status": status,
        "metadata": {k: metadata[k] for k in order if metadata.get(k) not in (None, [])},
        "capabilities": Flow(c.value for c in Capability if c.value in caps),
        "speed_class": cur["speed"], "quality_class": cur["quality"], "free": False,
        "optimization": optimization, "pricing_ref": f"{provider}/{model}",
        "documentation": {"model_page": model_page, "pricing_page": pricing_page},
        "provenance": {"specs": specs, "pricing": pricing, "notes": notes},
    }


# --------------------------------------------------------------------------- output


class Q(str):
    """A string written double-quoted (prices)."""

    __slots__ = ()


class Flow(list):  # type: ignore[type-arg]
    """A list written inline: ``[a, b]``."""


class Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


Dumper.add_representer(
    Q, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v, style='"'))
Dumper.add_representer(
    Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))


def dump(doc: Any, header: str) -> str:
    return header + yaml.dump(doc, Dumper=Dumper, sort_keys=False, allow_unicode=True,
                              width=4096, default_flow_style=False)


def file_name(model: str) -> str:
    return model.replace("/", "--").replace(":", "--") + ".yaml"


def build(shared: Path, out: Path) -> dict[str, int]:
    src = Sources(shared)
    header = (f"# Generated by tools/build_catalog.py from {src.md_label}, "
              f"{', '.join(label for label, _ in LITELLM_FILES)} and {OPENROUTER_LABEL}.\n"
              "# Do not edit by hand: change the curated table in the script and rerun it.\n")
    specs: list[dict[str, Any]] = []
    versions: dict[str, dict[date, dict[str, Any]]] = {p: {} for p in PROVIDERS}
    notes: dict[str, dict[date, set[str]]] = {p: {} for p in PROVIDERS}
    owners: dict[str, str] = {}
    for cur in MODELS:
        builder = build_openrouter if cur["provider"] == "openrouter" else build_first_party
        spec, model_versions = builder(src, cur)
        if not spec["provenance"]["notes"]:
            del spec["provenance"]["notes"]
        ModelSpec.model_validate(json.loads(json.dumps(spec, default=str)))
        for alias in spec["metadata"].get("aliases", ()):
            if owners.setdefault(alias.lower(), spec["model_id"]) != spec["model_id"]:
                raise SystemExit(f"alias {alias!r} is used twice")
        specs.append(spec)
        for day, price, source, note in model_versions:
            versions[cur["provider"]].setdefault(day, {})[cur["model"]] = price_entry(price, source)
            notes[cur["provider"]].setdefault(day, set()).add(note)
    pricing_docs = {provider: {
        "provider": provider, "currency": "USD", "unit": "per_million_tokens",
        "pricing_versions": [
            {"effective_date": day, "note": "; ".join(sorted(notes[provider][day])),
             "models": dict(sorted(entries.items()))}
            for day, entries in sorted(versions[provider].items())]} for provider in PROVIDERS}
    for doc in pricing_docs.values():
        PricingFile.model_validate(json.loads(json.dumps(doc, default=str)))

    for stale in [*out.glob("models/*/*.yaml"), *out.glob("pricing/*.yaml")]:
        stale.unlink()
    for folder in out.glob("models/*"):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    counts: dict[str, int] = {}
    for spec in specs:
        provider = spec["provider"]
        path = out / "models" / provider / file_name(spec["model_id"].split(":", 1)[1])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump(spec, header), encoding="utf-8")
        counts[provider] = counts.get(provider, 0) + 1
    (out / "pricing").mkdir(parents=True, exist_ok=True)
    for provider, doc in pricing_docs.items():
        (out / "pricing" / f"{provider}.yaml").write_text(dump(doc, header), encoding="utf-8")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the bundled model catalog.")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                        help="the shared/data folder holding the snapshots (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="catalog directory to (re)write (default: the package's data)")
    args = parser.parse_args(argv)
    counts = build(args.shared.resolve(), args.out.resolve())
    total = sum(counts.values())
    print(", ".join(f"{p}: {n}" for p, n in sorted(counts.items())) + f" (total {total})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
