"""The datasets users ask for by name: what each is, where it comes from, under which terms,
and how to read it. Pure description; data/datasets.py resolves a name to files and loads it.

Checksums, said honestly: `sha256` is the official download's, enforced on every download;
`sha256_source` says where that value comes from (none of the official archives can be
fetched from the machines this was written on, so none was re-hashed here). `local_sha256`
holds the checksums of the copies in ../shared/data (from its README), which the smoke test
re-hashes. Where the official checksum is unknown the download is not checked by hash; the
row counts per split (`counts`) are checked on every load instead.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sentiment_lab.data import readers
from sentiment_lab.data.ptb import detokenize
from sentiment_lab.data.records import Record
from sentiment_lab.exceptions import ConfigError


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    language: str  # BCP-47: en, fr
    domain: str
    splits: tuple[str, ...]  # what the full dataset holds: train, val, test (unsup for unlabeled text)
    counts: dict[str, int]  # rows per split of the full dataset, checked on load
    size: str  # in words, for people
    citation: str
    terms: str
    research_only: bool  # the distributor allows research use only: do not ship a model trained on it
    reader: Callable[[Path], list[Record]]
    local: tuple[str, ...]  # paths under $SENTIMENT_LAB_DATA, tried in order (the first is ../shared/data's)
    url: str | None = None  # the official download; None where there is none in a readable form
    sha256: str | None = None  # of the file at `url`; None where unknown
    sha256_source: str = ""
    download_bytes: int | None = None
    cache_name: str | None = None  # file name in $SENTIMENT_LAB_HOME
    local_sha256: dict[str, str] = field(default_factory=dict)  # of ../shared/data's copy, per its README
    normalize: Callable[[str], str] | None = None  # applied to every text on load (SST-2: PTB -> typed)
    labelled: bool = True
    homepage: str = ""
    notes: str = ""


_IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
_IMDB_SHA = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
_IMDB_SHA_SOURCE = ("published by many independent loaders (Hugging Face datasets, DataDeps.jl, others) and used "
                    "by data/imdb.py since the start; not re-downloaded here")
_IMDB_CITE = ("Maas, Daly, Pham, Huang, Ng, Potts. Learning Word Vectors for Sentiment Analysis. ACL 2011.")
_IMDB_TERMS = "no licence stated; the authors ask that work using it cite the ACL 2011 paper"
_ZHANG_CITE = ("Zhang, Zhao, LeCun. Character-level Convolutional Networks for Text Classification. NeurIPS 2015.")

DATASETS: dict[str, Dataset] = {d.name: d for d in [
    Dataset(
        name="imdb", title="Large Movie Review Dataset v1.0 (IMDB)", language="en", domain="movie reviews",
        splits=("train", "test"), counts={"train": 25_000, "test": 25_000},
        size="50,000 reviews: 25,000 train / 25,000 test, balanced; train and test are disjoint sets of movies",
        citation=_IMDB_CITE, terms=_IMDB_TERMS, research_only=False, reader=readers.read_imdb,
        local=("imdb/aclImdb_v1_labeled.tar.gz", "imdb/aclImdb_v1.tar.gz", "imdb/aclImdb"),
        url=_IMDB_URL, sha256=_IMDB_SHA, sha256_source=_IMDB_SHA_SOURCE, download_bytes=84_125_825,
        cache_name="aclImdb_v1.tar.gz",
        local_sha256={"imdb/aclImdb_v1_labeled.tar.gz":
                      "541a815c82368475eb27ed1e94cc3baedfd424e68aa9b0df6b5e969e719fbca5"},
        homepage="https://ai.stanford.edu/~amaas/data/sentiment/",
        notes="no validation split: carve it out of train (val_split='blocks' keeps a movie's reviews together)"),
    Dataset(
        name="imdb-unsup", title="Large Movie Review Dataset v1.0, unlabeled reviews", language="en",
        domain="movie reviews", splits=("unsup",), counts={"unsup": 50_000},
        size="50,000 unlabeled reviews (66.5 MB of text)", citation=_IMDB_CITE, terms=_IMDB_TERMS,
        research_only=False, reader=readers.read_imdb_unsup, labelled=False,
        local=("imdb/train_unsup.jsonl.gz", "imdb/aclImdb_v1.tar.gz", "imdb/aclImdb"),
        url=_IMDB_URL, sha256=_IMDB_SHA, sha256_source=_IMDB_SHA_SOURCE, download_bytes=84_125_825,
        cache_name="aclImdb_v1.tar.gz",  # the same archive as imdb: one download serves both
        local_sha256={"imdb/train_unsup.jsonl.gz": "df96a4a8ebb130c75ca10c49f53e13f4ad507bb658d8a7d64f19695a06a866a9"},
        homepage="https://ai.stanford.edu/~amaas/data/sentiment/",
        notes="split 'unsup', label -1 (UNLABELED): for language-model or word-vector pretraining, never as labels"),
    Dataset(
        name="sst2", title="Stanford Sentiment Treebank, binary (GLUE SST-2)", language="en",
        domain="movie review sentences and phrases", splits=("train", "val", "test"),
        counts={"train": 67_349, "val": 872, "test": 1_821},
        size="67,349 train phrases (single words to whole sentences), 872 dev sentences (val), 1,821 test sentences",
        citation=("Socher, Perelygin, Wu, Chuang, Manning, Ng, Potts. Recursive Deep Models for Semantic "
                  "Compositionality Over a Sentiment Treebank. EMNLP 2013. Split: Wang, Singh, Michael, Hill, Levy, "
                  "Bowman. GLUE: A Multi-Task Benchmark and Analysis Platform for NLU. ICLR 2019."),
        terms="no licence stated by the authors; cite Socher et al. 2013 (and GLUE for this split)",
        research_only=False, reader=readers.read_sst2, normalize=detokenize, local=("sst2",),
        url="https://dl.fbaipublicfiles.com/glue/data/SST-2.zip",
        sha256="d67e16fb55739c1b32cdce9877596db1c127dc322d93c082281f64057c16deaa",
        sha256_source=("GLUE's archive as recorded by Hugging Face datasets (glue/dataset_infos.json, 7,439,277 bytes) "
                       "and other loaders that pin it; not re-downloaded here"),
        download_bytes=7_439_277, cache_name="SST-2.zip",
        local_sha256={"sst2/train.csv.gz": "336a623226cef233f16b648607f0a60fea52f0818dc84bbd6ab19c8a1607766c",
                      "sst2/dev.csv.gz": "afeae543dbed9a0828fbdf16dfbf86356ae68cb2acd4c6a10b401a3c276ae96b",
                      "sst2/test.csv.gz": "0c725a499945f8a02d06a5046c9888b9eb27e477f53985bdc5670c84ede3e0a1"},
        homepage="https://nlp.stanford.edu/sentiment/",
        notes=("text is lowercased and PTB-tokenized; the loader detokenizes it (data.ptb.detokenize: does n't -> "
               "doesn't). GLUE withholds the test labels: from SST-2.zip there is no test split; the ../shared/data "
               "copy has the labelled test sentences. Never train together with the Rotten Tomatoes sentence-polarity "
               "set (Pang & Lee 2005): SST's sentences are those snippets.")),
    Dataset(
        name="amazon-blitzer", title="Multi-Domain Sentiment Dataset, balanced part (Blitzer et al. 2007)",
        language="en", domain="product reviews: books, DVDs, electronics, kitchen", splits=("train", "test"),
        counts={"train": 6_400, "test": 1_600},
        size="8,000 reviews: 4 domains x (1,000 positive 4-5 stars + 1,000 negative 1-2 stars)",
        citation=("Blitzer, Dredze, Pereira. Biographies, Bollywood, Boom-boxes and Blenders: Domain Adaptation for "
                  "Sentiment Classification. ACL 2007."),
        terms="no licence stated; cite Blitzer et al. 2007", research_only=False, reader=readers.read_blitzer,
        local=("amazon_blitzer/reviews.csv.gz",),
        url="https://www.cs.jhu.edu/~mdredze/datasets/sentiment/domain_sentiment_data.tar.gz",
        sha256_source=("unknown: no published checksum found; a download is checked by its length and by the row "
                       "counts (1,000 positive and 1,000 negative reviews per domain)"),
        cache_name="domain_sentiment_data.tar.gz",
        local_sha256={"amazon_blitzer/reviews.csv.gz":
                      "e66ba5eb4428cd374827d071d67b98b2df718cc8b75985e7cfda6b05bd136543"},
        homepage="https://www.cs.jhu.edu/~mdredze/datasets/sentiment/",
        notes=("no official split: the ../shared/data copy's split column is a fixed 800/200 per domain and label; "
               "from the official archive the loader draws its own 800/200 (seed 2007), not the same reviews. Ids "
               "start with the domain (books/, dvd/, electronics/, kitchen/). 147 texts repeat within a domain.")),
    Dataset(
        name="yelp-polarity", title="Yelp Review Polarity (Zhang et al. 2015)", language="en",
        domain="business reviews (restaurants, shops, services)", splits=("train", "test"),
        counts={"train": 560_000, "test": 38_000},
        size="598,000 reviews: 560,000 train / 38,000 test, balanced",
        citation=_ZHANG_CITE + " Data: the Yelp Dataset Challenge 2015.",
        terms="Yelp Dataset terms of use: non-commercial, academic use only; no redistribution",
        research_only=True, reader=readers.zhang_reader(titled=False),
        local=("yelp_polarity/yelp_review_polarity_csv.tgz", "yelp_polarity/yelp_review_polarity_csv"),
        url="https://s3.amazonaws.com/fast-ai-nlp/yelp_review_polarity_csv.tgz",
        sha256="528f22e286cad085948acbc3bea7e58188416546b0e364d0ae4ca0ce666abe35",
        sha256_source=("recorded by Hugging Face datasets (yelp_polarity, 166,373,201 bytes) and fastai's dataset list; "
                       "not re-downloaded here"),
        download_bytes=166_373_201, cache_name="yelp_review_polarity_csv.tgz", homepage="https://course.fast.ai/datasets",
        notes="columns label (1 negative, 2 positive), text; a review's line breaks are written \\n and restored"),
    Dataset(
        name="amazon-polarity", title="Amazon Review Polarity (Zhang et al. 2015)", language="en",
        domain="product reviews, all categories", splits=("train", "test"),
        counts={"train": 3_600_000, "test": 400_000},
        size="4,000,000 reviews: 3,600,000 train / 400,000 test, balanced",
        citation=(_ZHANG_CITE + " Data: McAuley, Leskovec. Hidden Factors and Hidden Topics: Understanding Rating "
                  "Dimensions with Review Text. RecSys 2013."),
        terms=("Amazon reviews collected by McAuley & Leskovec (SNAP) with no licence from Amazon: research use; "
               "do not ship a model trained on it without checking"),
        research_only=True, reader=readers.zhang_reader(titled=True),
        local=("amazon_polarity/amazon_review_polarity_csv.tgz", "amazon_polarity/amazon_review_polarity_csv"),
        url="https://s3.amazonaws.com/fast-ai-nlp/amazon_review_polarity_csv.tgz",
        sha256="d2a3ee7a214497a5d1b8eaed7c8d7ba2737de00ada3b0ec46243983efa100361",
        sha256_source=("recorded by Hugging Face datasets (amazon_polarity, 688,339,454 bytes) and fastai's dataset "
                       "list; not re-downloaded here"),
        download_bytes=688_339_454, cache_name="amazon_review_polarity_csv.tgz",
        homepage="https://course.fast.ai/datasets",
        notes=("columns label (1 negative, 2 positive), title, text; the text is title + line break + body. "
               "4 million reviews take minutes and several GB to load: give the mixture a cap")),
    Dataset(
        name="allocine", title="Allociné French movie reviews (Blard 2020)", language="fr", domain="movie reviews",
        splits=("train", "val", "test"), counts={"train": 160_000, "val": 20_000, "test": 20_000},
        size="200,000 reviews: 160,000 train / 20,000 val / 20,000 test, balanced; splits hold disjoint films",
        citation=("Théophile Blard. French sentiment analysis with BERT. GitHub repository, 2020. "
                  "https://github.com/TheophileBlard/french-sentiment-analysis-with-bert"),
        terms=("MIT (the repository's licence, also on its Hugging Face card); the texts are Allociné.fr users' "
               "reviews: check Allociné's terms before redistributing them or shipping a model"),
        research_only=False, reader=readers.read_allocine,
        local=("french/allocine/data.tar.bz2", "french/allocine"),
        url=("https://github.com/TheophileBlard/french-sentiment-analysis-with-bert/raw/master/"
             "allocine_dataset/data.tar.bz2"),
        sha256="8c49a8cac783da201697ed1a91b36d2f6618222b3b7ea1c2996f2a3fbc37dfb4",
        sha256_source=("recorded by Hugging Face datasets (allocine/dataset_infos.json, 66,625,305 bytes), one source; "
                       "not re-downloaded here"),
        download_bytes=66_625_305, cache_name="allocine_data.tar.bz2",
        homepage="https://github.com/TheophileBlard/french-sentiment-analysis-with-bert",
        notes=("official format: data.tar.bz2 holding data/{train,val,test}.jsonl, one JSON object a line "
               "{film-url, review, polarity 0|1}; ratings <= 2 of 5 negative, >= 4 positive; reviews under 2,000 "
               "characters. Hugging Face's Parquet conversion is not read here.")),
    Dataset(
        name="marc-fr", title="Multilingual Amazon Reviews Corpus, French (Keung et al. 2020)", language="fr",
        domain="product reviews", splits=("train", "test"), counts={"train": 9_920, "test": 4_000},
        size="4,000 test reviews (2,000 / 2,000, 3-star rows dropped) and a 9,920-review star-balanced train sample",
        citation="Keung, Lu, Szarvas, Smith. The Multilingual Amazon Reviews Corpus. EMNLP 2020.",
        terms="research use only, no redistribution: do not commit it, do not ship a model trained on it",
        research_only=True, reader=readers.csv_splits_reader({"train": "train_sample", "test": "test"}),
        local=("french/marc_fr",),
        local_sha256={"french/marc_fr/test.csv.gz": "a5a024068f12dceb916a31b41ffc92fae2bafb5354f4eb56c5507115d6b52f1a",
                      "french/marc_fr/train_sample.csv.gz":
                      "24697d2b21aa78150b8505f35eb2710fe70e222eba49785cbe6e1ff08ec81a1c"},
        sha256_source="no download: the local files are derived (3-star rows dropped, a train sample)",
        notes="for measuring French; train is a sample, not a published split"),
    Dataset(
        name="cls-books-fr", title="Webis-CLS-10 French book reviews (Prettenhofer & Stein 2010), FLUE split",
        language="fr", domain="book reviews", splits=("train", "val", "test"),
        counts={"train": 1_600, "val": 400, "test": 2_000}, size="4,000 reviews: 1,600 / 400 / 2,000, balanced",
        citation=("Prettenhofer, Stein. Cross-Language Text Classification using Structural Correspondence Learning. "
                  "ACL 2010. Split: Le et al. FlauBERT: Unsupervised Language Model Pre-training for French. LREC 2020."),
        terms="research use only, no redistribution: do not commit it, do not ship a model trained on it",
        research_only=True,
        reader=readers.csv_splits_reader({"train": "train", "val": "valid", "test": "test"}),
        local=("french/cls_books_fr",),
        local_sha256={"french/cls_books_fr/train.csv.gz": "10c5f7025a0f28128fa6c6a601c69920bdaf7b7869bc54bf7b24ae2d2218b512",
                      "french/cls_books_fr/valid.csv.gz": "3e7c4f757ef1a9247b2caa824770417cd9af7baf900a45c0fbc359a39b0430cf",
                      "french/cls_books_fr/test.csv.gz": "7c95820cdd7382f4b21afe382adffa7240a682fb46cc55ad1e0d44d9b4b5f495"},
        sha256_source="no download here: the official Webis-CLS-10 release is XML, which is not read here",
        notes="typographic apostrophes were already '?' in the source"),
]}


def dataset_names() -> list[str]:
    return sorted(DATASETS)


def get_dataset(name: str) -> Dataset:
    """The registry entry, or one line that lists the known names (and the nearest one)."""
    key = name.strip().lower() if isinstance(name, str) else name
    if key in DATASETS:
        return DATASETS[key]
    near = difflib.get_close_matches(str(key), DATASETS, n=1)
    hint = f" (did you mean {near[0]}?)" if near else ""
    raise ConfigError(f"unknown dataset {name!r}{hint}; known: {', '.join(dataset_names())}")
