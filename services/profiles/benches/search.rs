//! Name search at scale, on SQLite, through the real gRPC service (issue 23: p99 ≤ 10 ms at
//! 1 M customers).
//!
//! `cargo bench -p rapport-profiles --bench search` (1,000,000 customers);
//! `SEARCH_CUSTOMERS=100000 cargo bench -p rapport-profiles --bench search` for a quicker run.
//! `SEARCH_QUERIES` changes the number of searches (default 1,000); `SEARCH_OLD_QUERIES` the
//! number replayed through the former `LIKE '%word%'` scan for comparison (default 50; 0 skips);
//! `SEARCH_REPEATS=3` times each search as the fastest of three runs (for a noisy machine).
//!
//! Customers are written with direct SQL in big transactions, before the name-key migration,
//! so that the migration's own backfill builds the keys (its time is printed too). Names come
//! from a fixed-seed generator: given names from lists, surnames built from syllables, in
//! Romanian, Polish, Czech, Hungarian, Turkish, Vietnamese, German, Nordic, Iberian, French,
//! Greek, Russian, Chinese, Korean, Arabic and Hindi, with their diacritics; a quarter have a
//! preferred name. Each culture's folded forms are written beside its display forms (the
//! searches check them: a query for a seeded name that finds no one fails the bench).
//!
//! Searches, each one page of 25 (the default) in the BASIC view: full names as typed with
//! diacritics and capitals, the same without diacritics or in the other order, a surname
//! alone, a given name with the start of the surname, and names no one has.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use rapport_clock::ManualClock;
use rapport_ids::Id;
use rapport_proto::profiles::v1 as pb;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_server::ServerSettings;
use rapport_server::testing::TestServer;
use rapport_storage::sqlx::{self, AssertSqlSafe};
use rapport_storage::{Migrations, Storage, StorageSettings};

/// A small, fixed-seed generator (xorshift64*): the same data set every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// (as written, folded) pairs.
type Part = (&'static str, &'static str);

/// One naming culture: given names, surname syllables and endings, and whether its names are
/// written as one word (surname and given name run together, as in Chinese and Korean).
struct Culture {
    given: &'static [Part],
    roots: &'static [Part],
    endings: &'static [Part],
    one_word: bool,
}

const CULTURES: &[Culture] = &[
    Culture {
        given: &[
            ("Ștefan", "stefan"),
            ("Ioana", "ioana"),
            ("Mihai", "mihai"),
            ("Andreea", "andreea"),
            ("Ionuț", "ionut"),
            ("Mădălina", "madalina"),
            ("Răzvan", "razvan"),
            ("Ana", "ana"),
        ],
        roots: &[
            ("pop", "pop"),
            ("ion", "ion"),
            ("tă", "ta"),
            ("nă", "na"),
            ("dumi", "dumi"),
            ("vasi", "vasi"),
            ("ște", "ste"),
            ("gheo", "gheo"),
            ("mun", "mun"),
            ("băl", "bal"),
            ("răd", "rad"),
            ("cos", "cos"),
        ],
        endings: &[
            ("escu", "escu"),
            ("eanu", "eanu"),
            ("ase", "ase"),
            ("ă", "a"),
        ],
        one_word: false,
    },
    Culture {
        given: &[
            ("Łukasz", "lukasz"),
            ("Małgorzata", "malgorzata"),
            ("Paweł", "pawel"),
            ("Agnieszka", "agnieszka"),
            ("Jiří", "jiri"),
            ("Tereza", "tereza"),
            ("Zoltán", "zoltan"),
            ("Erzsébet", "erzsebet"),
        ],
        roots: &[
            ("kowal", "kowal"),
            ("wiś", "wis"),
            ("łuka", "luka"),
            ("nie", "nie"),
            ("dvo", "dvo"),
            ("řá", "ra"),
            ("nová", "nova"),
            ("sza", "sza"),
            ("bó", "bo"),
            ("zie", "zie"),
            ("lin", "lin"),
            ("grz", "grz"),
        ],
        endings: &[
            ("ski", "ski"),
            ("ska", "ska"),
            ("wicz", "wicz"),
            ("ák", "ak"),
            ("ová", "ova"),
            ("y", "y"),
        ],
        one_word: false,
    },
    Culture {
        given: &[
            ("Gökhan", "gokhan"),
            ("Ayşe", "ayse"),
            ("Yiğit", "yigit"),
            ("Nguyễn Thị", "nguyen thi"),
            ("Đức", "duc"),
            ("Phương", "phuong"),
            ("İlkay", "ilkay"),
            ("Hương", "huong"),
        ],
        roots: &[
            ("yıl", "yil"),
            ("öz", "oz"),
            ("tür", "tur"),
            ("çe", "ce"),
            ("şa", "sa"),
            ("trầ", "tra"),
            ("lê", "le"),
            ("phạ", "pha"),
            ("hoà", "hoa"),
            ("đặ", "da"),
            ("ğa", "ga"),
            ("kay", "kay"),
        ],
        endings: &[
            ("maz", "maz"),
            ("k", "k"),
            ("n", "n"),
            ("ng", "ng"),
            ("oğlu", "oglu"),
        ],
        one_word: false,
    },
    Culture {
        given: &[
            ("Jürgen", "jurgen"),
            ("Søren", "soren"),
            ("José", "jose"),
            ("João", "joao"),
            ("François", "francois"),
            ("Chloé", "chloe"),
            ("Núria", "nuria"),
            ("Guðrún", "gudrun"),
            ("Åsa", "asa"),
        ],
        roots: &[
            ("mül", "mul"),
            ("groß", "gross"),
            ("jør", "jor"),
            ("gar", "gar"),
            ("gon", "gon"),
            ("çal", "cal"),
            ("lefè", "lefe"),
            ("þór", "thor"),
            ("ber", "ber"),
            ("mar", "mar"),
            ("fer", "fer"),
            ("sán", "san"),
        ],
        endings: &[
            ("ler", "ler"),
            ("mann", "mann"),
            ("sen", "sen"),
            ("cía", "cia"),
            ("ves", "ves"),
            ("vre", "vre"),
            ("sdóttir", "sdottir"),
            ("ez", "ez"),
        ],
        one_word: false,
    },
    Culture {
        given: &[
            ("Δημήτρης", "δημητρησ"),
            ("Ελένη", "ελενη"),
            ("Γιώργος", "γιωργοσ"),
            ("Μαρία", "μαρια"),
            ("Νίκος", "νικοσ"),
            ("Κατερίνα", "κατερινα"),
        ],
        roots: &[
            ("πα", "πα"),
            ("πα", "πα"),
            ("δό", "δο"),
            ("οι", "οι"),
            ("κο", "κο"),
            ("νό", "νο"),
            ("γε", "γε"),
            ("ωρ", "ωρ"),
            ("λά", "λα"),
            ("μπρ", "μπρ"),
        ],
        endings: &[
            ("πουλος", "πουλοσ"),
            ("μου", "μου"),
            ("ίου", "ιου"),
            ("άκης", "ακησ"),
        ],
        one_word: false,
    },
    Culture {
        given: &[
            ("Дмитрий", "дмитрий"),
            ("Ольга", "ольга"),
            ("Сергей", "сергей"),
            ("Наталья", "наталья"),
            ("Йоганн", "йоганн"),
            ("Анна", "анна"),
        ],
        roots: &[
            ("ива", "ива"),
            ("смир", "смир"),
            ("кузне", "кузне"),
            ("пет", "пет"),
            ("ёл", "ёл"),
            ("соко", "соко"),
            ("мор", "мор"),
            ("вол", "вол"),
            ("ле", "ле"),
            ("бе", "бе"),
        ],
        endings: &[
            ("нов", "нов"),
            ("нова", "нова"),
            ("цов", "цов"),
            ("кин", "кин"),
            ("ев", "ев"),
        ],
        one_word: false,
    },
    Culture {
        given: &[
            ("伟", "伟"),
            ("芳", "芳"),
            ("娜", "娜"),
            ("敏", "敏"),
            ("静", "静"),
            ("强", "强"),
            ("磊", "磊"),
            ("小龍", "小龍"),
            ("秀英", "秀英"),
        ],
        roots: &[
            ("王", "王"),
            ("李", "李"),
            ("张", "张"),
            ("刘", "刘"),
            ("陈", "陈"),
            ("杨", "杨"),
            ("黄", "黄"),
            ("赵", "赵"),
        ],
        endings: &[("", "")],
        one_word: true,
    },
    Culture {
        given: &[
            ("민준", "민준"),
            ("서연", "서연"),
            ("지훈", "지훈"),
            ("하은", "하은"),
            ("도윤", "도윤"),
        ],
        roots: &[
            ("김", "김"),
            ("이", "이"),
            ("박", "박"),
            ("최", "최"),
            ("정", "정"),
        ],
        endings: &[("", "")],
        one_word: true,
    },
    Culture {
        given: &[
            ("محمد", "محمد"),
            ("فاطمة", "فاطمة"),
            ("प्रिया", "प्रिया"),
            ("अर्जुन", "अर्जुन"),
            ("علي", "علي"),
        ],
        roots: &[
            ("ال", "ال"),
            ("حس", "حس"),
            ("شر", "شر"),
            ("शर्", "शर्"),
            ("वर्", "वर्"),
            ("पटे", "पटे"),
        ],
        endings: &[("ين", "ين"), ("ما", "ما"), ("मा", "मा"), ("ल", "ल")],
        one_word: false,
    },
];

/// A generated person: names as written and folded.
struct Person {
    given: (String, String),
    surname: (String, String),
    preferred: Option<Part>,
    one_word: bool,
}

impl Person {
    fn legal_name(&self) -> String {
        if self.one_word {
            format!("{}{}", self.surname.0, self.given.0)
        } else {
            format!("{} {}", self.given.0, self.surname.0)
        }
    }
    fn search_name(&self) -> String {
        let legal = if self.one_word {
            format!("{}{}", self.surname.1, self.given.1)
        } else {
            format!("{} {}", self.given.1, self.surname.1)
        };
        match self.preferred {
            Some((_, folded)) => format!("{legal} {folded}"),
            None => legal,
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn person(rng: &mut Rng) -> Person {
    let culture = rng.pick(CULTURES);
    let given = *rng.pick(culture.given);
    let (mut surname, mut folded) = (String::new(), String::new());
    let syllables = if culture.one_word {
        1
    } else {
        1 + rng.below(3)
    };
    for _ in 0..syllables {
        let (written, plain) = rng.pick(culture.roots);
        surname.push_str(written);
        folded.push_str(plain);
    }
    let (written, plain) = rng.pick(culture.endings);
    surname.push_str(written);
    folded.push_str(plain);
    let preferred = (rng.below(4) == 0).then(|| *rng.pick(culture.given));
    Person {
        given: (given.0.to_owned(), given.1.to_owned()),
        surname: (capitalised(&surname), folded),
        preferred,
        one_word: culture.one_word,
    }
}

/// A search: the query as an agent types it, its folded words (for the old scan's replay),
/// and whether a seeded customer answers it.
struct Query {
    kind: &'static str,
    text: String,
    words: Vec<String>,
    expects_someone: bool,
}

fn query_for(rng: &mut Rng, p: &Person) -> Query {
    let folded_words = |text: &str| text.split(' ').map(str::to_owned).collect::<Vec<_>>();
    let (kind, text, words) = if p.one_word {
        (
            "one-word name",
            p.legal_name(),
            vec![format!("{}{}", p.surname.1, p.given.1)],
        )
    } else {
        match rng.below(5) {
            // Full name as written, sometimes in capitals.
            0 => {
                let text = p.legal_name();
                let text = if rng.below(3) == 0 {
                    text.to_uppercase()
                } else {
                    text
                };
                (
                    "full name",
                    text,
                    folded_words(&format!("{} {}", p.given.1, p.surname.1)),
                )
            }
            // Without diacritics, surname first.
            1 => {
                let text = format!("{} {}", p.surname.1, p.given.1);
                let words = folded_words(&text);
                ("surname first, plain", text, words)
            }
            // The surname alone.
            2 => (
                "surname alone",
                p.surname.0.clone(),
                folded_words(&p.surname.1),
            ),
            // A given name and the start of the surname.
            3 => {
                let start: String = p.surname.1.chars().take(3).collect();
                let text = format!("{} {start}", p.given.1);
                let words = folded_words(&text);
                ("given + surname's start", text, words)
            }
            // Nobody has this surname.
            _ => {
                let text = format!("{} Qwxzyk", p.given.0);
                (
                    "nobody",
                    text,
                    folded_words(&format!("{} qwxzyk", p.given.1)),
                )
            }
        }
    };
    let expects_someone = !text.ends_with("Qwxzyk");
    Query {
        kind,
        text,
        words,
        expects_someone,
    }
}

async fn seed(storage: &Storage, customers: u64, rng: &mut Rng) -> Vec<Person> {
    let mut targets = Vec::new();
    let every = (customers / 2_000).max(1);
    let mut rows: Vec<(String, String, String, String)> = Vec::new();
    let flush = |rows: Vec<(String, String, String, String)>| async move {
        let mut tx = storage.begin_write().await.unwrap();
        for chunk in rows.chunks(1_000) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let b = 4 * i;
                    format!(
                        "(${}, ${}, ${}, ${}, 'ro-RO', 'Europe/Bucharest', '[]', '2015-06-01', 601, \
                         'active', 1700000000000000, 1700000000000000)",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO customers (customer_id, legal_name, preferred_name, search_name, locale, time_zone, \
                 addresses, customer_since, since_month_day, status, created_at_micros, updated_at_micros) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (id, legal, preferred, search) in chunk {
                q = q
                    .bind(id.clone())
                    .bind(legal.clone())
                    .bind(preferred.clone())
                    .bind(search.clone());
            }
            q.execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
    };
    for n in 0..customers {
        let p = person(rng);
        rows.push((
            Id::new().to_string(),
            p.legal_name(),
            p.preferred.map(|(w, _)| w.to_owned()).unwrap_or_default(),
            p.search_name(),
        ));
        if n % every == 0 {
            targets.push(p);
        }
        if rows.len() >= 50_000 {
            flush(std::mem::take(&mut rows)).await;
        }
    }
    flush(rows).await;
    targets
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1_000.0
}

fn summary(latencies: &mut [Duration]) -> String {
    latencies.sort();
    format!(
        "p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(latencies, 0.50),
        percentile(latencies, 0.90),
        percentile(latencies, 0.99),
        percentile(latencies, 1.0),
    )
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|n| n.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn main() {
    let customers = env_number("SEARCH_CUSTOMERS", 1_000_000);
    let searches = env_number("SEARCH_QUERIES", 1_000);
    let old_searches = env_number("SEARCH_OLD_QUERIES", 50);
    // On a shared machine, the fastest of a few runs of each search is its cost without the
    // neighbours' noise; 1 (the default) is the plain figure.
    let repeats = env_number("SEARCH_REPEATS", 1).max(1);
    let dir = std::env::temp_dir().join(format!("rapport-search-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let storage_settings = StorageSettings {
        url: format!("sqlite://{}", dir.join("profiles.db").display()),
        // A start-up check of a large file is cut short, not waited for.
        integrity_check_timeout_ms: 1_000,
        ..StorageSettings::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut rng = Rng(0x5EED_5EA2_C4A3_0023);
        let all = &rapport_profiles::MIGRATIONS;
        let keys_migration = all
            .0
            .iter()
            .position(|m| m.description == "customer_name_keys")
            .unwrap();
        let storage = Storage::open(&storage_settings).unwrap();
        storage
            .migrate(&Migrations(&all.0[..keys_migration]))
            .await
            .unwrap();
        let started = Instant::now();
        let targets = seed(&storage, customers, &mut rng).await;
        println!(
            "seeded {customers} customers in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let started = Instant::now();
        storage.migrate(all).await.unwrap();
        let (keys,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM customer_name_keys")
            .fetch_one(storage.reader())
            .await
            .unwrap();
        println!(
            "name-key migrations (7 and 8) backfilled {keys} keys ({:.1} per customer) in {:.1} s",
            keys as f64 / customers as f64,
            started.elapsed().as_secs_f64()
        );

        // A running server's WAL is checkpointed as it goes; the backfill's is folded in now.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(storage.reader())
            .await
            .unwrap();
        let warm_up: Vec<Query> = (0..200)
            .map(|_| {
                let target = rng.pick(&targets);
                query_for(&mut rng, target)
            })
            .collect();
        let queries: Vec<Query> = (0..searches)
            .map(|_| {
                let target = rng.pick(&targets);
                query_for(&mut rng, target)
            })
            .collect();

        let settings = rapport_profiles::Settings {
            server: ServerSettings::default(),
            storage: storage_settings.clone(),
            ..rapport_profiles::Settings::default()
        };
        let clock = Arc::new(ManualClock::new("2026-06-01T00:00:00Z".parse().unwrap()));
        let unit = rapport_profiles::assemble(&settings, clock).unwrap();
        let server = TestServer::start(settings.server, vec![unit]).await;
        let mut client = ProfileServiceClient::new(server.channel.clone());
        // Other searches first, as a server that has been up a while has read its indexes.
        for query in &warm_up {
            client
                .search_customers(pb::SearchCustomersRequest {
                    name: query.text.clone(),
                    ..Default::default()
                })
                .await
                .unwrap();
        }
        let mut latencies = Vec::with_capacity(queries.len());
        let mut found = 0_usize;
        for query in &queries {
            let mut fastest = Duration::MAX;
            let mut page = pb::SearchCustomersResponse::default();
            for _ in 0..repeats {
                let started = Instant::now();
                page = client
                    .search_customers(pb::SearchCustomersRequest {
                        name: query.text.clone(),
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner();
                fastest = fastest.min(started.elapsed());
            }
            latencies.push(fastest);
            found += page.customers.len();
            assert_eq!(
                !page.customers.is_empty(),
                query.expects_someone,
                "search {:?}",
                query.text
            );
        }
        let timed: Vec<(Duration, &Query)> = latencies.iter().copied().zip(&queries).collect();
        println!(
            "{} name searches through gRPC (page of 25, BASIC view; {:.1} customers per page; \
             fastest of {repeats}): {}",
            queries.len(),
            found as f64 / queries.len() as f64,
            summary(&mut latencies)
        );
        // For rapport-bench's `search` scenario (bench/src/scenarios/scale.rs); `latencies`
        // is sorted by `summary`.
        println!(
            "figure: search customers={customers} searches={} repeats={repeats} p50_ms={:.3} p99_ms={:.3} max_ms={:.3}",
            latencies.len(),
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.99),
            percentile(&latencies, 1.0),
        );
        let mut kinds: Vec<&str> = queries.iter().map(|q| q.kind).collect();
        kinds.sort_unstable();
        kinds.dedup();
        for kind in kinds {
            let mut of_kind: Vec<Duration> = timed
                .iter()
                .filter(|(_, q)| q.kind == kind)
                .map(|(t, _)| *t)
                .collect();
            println!("  {kind} ({}): {}", of_kind.len(), summary(&mut of_kind));
        }
        let mut slowest: Vec<(Duration, &str)> =
            timed.iter().map(|(t, q)| (*t, q.text.as_str())).collect();
        slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
        for (took, text) in slowest.iter().take(5) {
            println!("  slow: {:.2} ms {text:?}", took.as_secs_f64() * 1_000.0);
        }

        // The former query: every folded word as LIKE '%word%' over every customer's folded
        // names, in id order. Replayed as SQL alone (no gRPC, no loading), so it flatters the
        // old path.
        let mut old = Vec::new();
        for query in queries.iter().take(old_searches as usize) {
            let mut sql =
                String::from("SELECT c.customer_id FROM customers c WHERE c.status IN ('active')");
            for i in 0..query.words.len() {
                sql.push_str(&format!(" AND c.search_name LIKE ${} ESCAPE '\\'", i + 1));
            }
            sql.push_str(" ORDER BY c.customer_id LIMIT 26");
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for word in &query.words {
                q = q.bind(format!("%{word}%"));
            }
            let started = Instant::now();
            q.fetch_all(storage.reader()).await.unwrap();
            old.push(started.elapsed());
        }
        if !old.is_empty() {
            println!(
                "{} of them replayed through the former LIKE scan (SQL only): {}",
                old.len(),
                summary(&mut old)
            );
        }
        drop(server);
        storage.close().await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}
