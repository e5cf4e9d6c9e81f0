//! Deterministic demo data that looks like a real MSP: customers on several service plans and
//! their provisioned users. The same seed always yields the same data.

use std::collections::HashMap;

use chrono::{DateTime, Duration, SecondsFormat, TimeZone, Utc};
use provisio_api::auth::Role;
use provisio_api::mapping::{AttributeOperator, Matcher, SaveMappingRequest};
use rand::distributions::{Distribution, WeightedIndex};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::SqlitePool;

use crate::auth::password;
use crate::{db, ApiError};

/// Users seeded when no number is given.
pub const DEFAULT_DEMO_USERS: u64 = 10_000;

const SEED: u64 = 0x5052_4f56_4953_494f;

pub struct DemoCustomer {
    pub global_id: String,
    pub name: String,
    pub account_name: String,
    pub service_plan: &'static str,
    pub created_at: String,
    pub profiles: Vec<&'static str>,
    pub storage_regions: Vec<&'static str>,
    domain: String,
    identity_provider: &'static str,
    custom_attribute: Option<&'static str>,
    weight: u32,
}

pub struct DemoUser {
    /// Index into the customer list.
    pub customer: usize,
    pub user_name: String,
    pub email: String,
    /// Index into the customer's profiles.
    pub profile: usize,
    /// Index into the customer's storage regions.
    pub storage_region: usize,
    pub status: &'static str,
    pub license: &'static str,
    pub usage_mb: i64,
    pub created_at: String,
    pub managed_by: &'static str,
    pub custom_attribute_name: String,
    pub custom_attribute_value: String,
}

/// What seeding produced: the users inserted and the demo admins' one-time sign-in details.
pub struct DemoSeed {
    pub users: u64,
    pub admins: Vec<DemoAdmin>,
}

pub struct DemoAdmin {
    pub email: &'static str,
    pub display_name: &'static str,
    pub role: Role,
    /// Fresh and random on every seeding; shown once at start-up.
    pub password: String,
    /// The customer (by name) a customer-bound admin belongs to.
    pub customer: Option<&'static str>,
}

/// Seeds the whole demo (customers, `user_count` users, admins, SCIM provisioning and its log)
/// into an empty database of either engine. PostgreSQL gets it by way of a SQLite file in the
/// temporary folder, copied over with `copy-database`: one seeding, tuned for SQLite's bulk
/// loading, serves both.
pub async fn seed_everything(pool: &db::Pool, user_count: u64) -> Result<DemoSeed, ApiError> {
    let seed_all = |sqlite: SqlitePool| async move {
        let seeded = seed(&sqlite, user_count).await?;
        seed_provisioning(&sqlite).await?;
        seed_provisioning_log(&sqlite, Utc::now()).await?;
        Ok::<_, ApiError>(seeded)
    };
    match pool {
        db::Pool::Sqlite(sqlite) => seed_all(sqlite.clone()).await,
        db::Pool::Postgres(postgres) => {
            let file = std::env::temp_dir().join(format!(
                "provisio-demo-{}-{}.db",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            ));
            let sqlite = db::connect(&format!("sqlite://{}?mode=rwc", file.display())).await?;
            let seeded = seed_all(sqlite.clone()).await;
            let copied = match &seeded {
                Ok(_) => db::copy::copy(&sqlite, postgres).await.map(|_| ()),
                Err(_) => Ok(()),
            };
            sqlite.close().await;
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
            copied.map_err(|err| match err {
                db::copy::CopyError::Database(err) => ApiError::Database(err),
                other => {
                    tracing::error!(error = %other, "copying the demo to PostgreSQL failed");
                    ApiError::Internal("the demo could not be copied to PostgreSQL")
                }
            })?;
            seeded
        }
    }
}

/// Seeds customers, `user_count` users and one admin per role into an empty database.
pub async fn seed(pool: &SqlitePool, user_count: u64) -> Result<DemoSeed, ApiError> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let customers = customers(&mut rng);
    let ids = db::demo::insert_customers(pool, &customers).await?;
    let users =
        db::demo::insert_users(pool, &customers, &ids, users(&customers, user_count, rng)).await?;
    let admins = vec![
        demo_admin(
            "alex.morgan@provisio.example",
            "Alex Morgan",
            Role::MspAdmin,
            None,
        ),
        demo_admin(
            "priya.shah@northwindtraders.com",
            "Priya Shah",
            Role::CustomerAdmin,
            Some(CUSTOMERS[0].0),
        ),
        demo_admin(
            "sam.reader@provisio.example",
            "Sam Reader",
            Role::ReadOnly,
            None,
        ),
    ];
    for admin in &admins {
        let customer_id = admin
            .customer
            .and_then(|name| customers.iter().position(|c| c.name == name))
            .map(|index| ids[index].customer_id);
        let hash = password::hash(admin.password.clone()).await?;
        let new = db::admins::NewAdmin {
            email: admin.email,
            display_name: admin.display_name,
            password_hash: &hash,
            role: admin.role,
            customer_id,
        };
        db::admins::insert(&db::Pool::from(pool), &new).await?;
    }
    Ok(DemoSeed { users, admins })
}

/// What the identity providers of the demo customers provisioned by SCIM (Entra ID, Okta)
/// would have pushed: their users as SCIM resources with directory attributes, groups by
/// department, and two to four mappings that place the users, as the seeds' use case does
/// (the Finance group first, then a location, then the rest). Placement runs through the
/// mapping engine, as an admin's save would. Runs after [`seed`], on the same database.
pub async fn seed_provisioning(pool: &SqlitePool) -> Result<(), ApiError> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ 0x5343_494d);
    let customers = customers(&mut ChaCha8Rng::seed_from_u64(SEED));
    let at = timestamp(anchor());
    for customer in &customers {
        if !matches!(customer.identity_provider, "Microsoft Entra ID" | "Okta") {
            continue;
        }
        let mut tx = db::write_transaction(pool).await?;
        let Some(ids) = db::demo::customer_ids(tx.sqlite()?, &customer.global_id).await? else {
            continue;
        };
        db::demo::provision_scim_users(tx.sqlite()?, ids.customer_id, customer.identity_provider)
            .await?;
        let mut groups = HashMap::new();
        for department in ["Finance", "Engineering", "Sales"] {
            let scim_id = uuid::Builder::from_random_bytes(rng.gen())
                .into_uuid()
                .to_string();
            db::demo::insert_group(
                tx.sqlite()?,
                ids.customer_id,
                &scim_id,
                department,
                department,
                None,
                &at,
            )
            .await?;
            groups.insert(department, scim_id);
        }
        for mapping in demo_mappings(customer, &ids, &groups) {
            db::mappings::insert(tx.sqlite()?, ids.customer_id, &mapping).await?;
        }
        db::mappings::place_users(tx.sqlite()?, ids.customer_id, None, None).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// How a demo customer's provisioning has been going.
#[derive(Debug, Clone, Copy, PartialEq)]
enum DemoHealth {
    Healthy,
    /// Its only token expired two days ago; the identity provider keeps trying.
    TokenExpired,
    /// A burst of uniqueness conflicts over the last two hours.
    Failing,
    /// Its token expires in five days.
    TokenExpiring,
}

/// Thirty days of provisioning events (to `now`) for the customers SCIM provisions: creates,
/// updates, disables and their occasional failures, with one customer whose token expired,
/// one failing, one whose token is about to expire; each gets a token.
pub async fn seed_provisioning_log(pool: &SqlitePool, now: DateTime<Utc>) -> Result<(), ApiError> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ 0x4c4f_4753);
    let customers = customers(&mut ChaCha8Rng::seed_from_u64(SEED));
    let mut tx = db::write_transaction(pool).await?;
    db::demo::backdate_first_placements(tx.sqlite()?, &timestamp(now - Duration::days(30))).await?;
    tx.commit().await?;
    let scim_customers = customers
        .iter()
        .filter(|c| matches!(c.identity_provider, "Microsoft Entra ID" | "Okta"));
    for (index, customer) in scim_customers.enumerate() {
        let health = match index {
            0 => DemoHealth::TokenExpired,
            1 => DemoHealth::Failing,
            2 => DemoHealth::TokenExpiring,
            _ => DemoHealth::Healthy,
        };
        let mut tx = db::write_transaction(pool).await?;
        let Some(ids) = db::demo::customer_ids(tx.sqlite()?, &customer.global_id).await? else {
            continue;
        };
        let (idp_key, token_name) = match customer.identity_provider {
            "Okta" => ("okta", "Okta production"),
            _ => ("entra_id", "Entra ID production"),
        };
        let expires = match health {
            DemoHealth::TokenExpired => now - Duration::days(2),
            DemoHealth::TokenExpiring => now + Duration::days(5),
            DemoHealth::Healthy | DemoHealth::Failing => now + Duration::days(300),
        };
        let token_id = db::demo::insert_token(
            tx.sqlite()?,
            ids.customer_id,
            token_name,
            idp_key,
            &timestamp(now - Duration::days(60)),
            &timestamp(expires),
        )
        .await?;
        let users = db::demo::scim_identities(tx.sqlite()?, ids.customer_id, 400).await?;
        if users.is_empty() {
            continue;
        }
        let events = demo_events(&mut rng, ids.customer_id, token_id, &users, health, now);
        db::demo::insert_events(tx.sqlite()?, &events).await?;
        db::demo::touch_token(tx.sqlite()?, token_id).await?;
        tx.commit().await?;
    }
    db::provisioning_log::index_new(&db::Pool::from(pool)).await?;
    Ok(())
}

fn demo_events(
    rng: &mut ChaCha8Rng,
    customer_id: i64,
    token_id: i64,
    users: &[db::demo::ScimIdentity],
    health: DemoHealth,
    now: DateTime<Utc>,
) -> Vec<db::demo::DemoEvent> {
    let mut events = vec![];
    let expired_at = now - Duration::days(2);
    let burst_from = now - Duration::hours(2);
    let mut at = now - Duration::days(30);
    while at < now {
        let failing_now = health == DemoHealth::Failing && at > burst_from;
        at += Duration::seconds(if failing_now {
            rng.gen_range(60..300)
        } else {
            rng.gen_range(600..5400)
        });
        if at >= now {
            break;
        }
        let user = users[rng.gen_range(0..users.len())].clone();
        let identity = format!("{} ({})", user.user_name, user.email);
        let mut event = db::demo::DemoEvent {
            at: timestamp(at),
            customer_id,
            token_id,
            action: "update",
            outcome: "success",
            identity,
            user: Some(user.clone()),
            changes: "{}".to_owned(),
            error: None,
            error_code: None,
            http_status: None,
            request_id: uuid::Builder::from_random_bytes(rng.gen())
                .into_uuid()
                .to_string(),
            duration_ms: rng.gen_range(4..60),
            client_address: if customer_id % 2 == 0 {
                "20.36.104.12"
            } else {
                "52.88.14.201"
            },
        };
        if health == DemoHealth::TokenExpired && at > expired_at {
            event.action = "update";
            event.outcome = "failure";
            event.error = Some("The token has expired; generate a new one in Provisio.");
            event.error_code = Some("token_expired");
            event.http_status = Some(401);
            event.duration_ms = rng.gen_range(1..4);
            events.push(event);
            continue;
        }
        if health == DemoHealth::Failing && at > burst_from {
            let other = &users[rng.gen_range(0..users.len())];
            event.action = "create";
            event.outcome = "failure";
            event.identity = other.email.clone();
            event.user = None;
            event.changes =
                serde_json::json!({"userName": {"before": null, "after": other.email}}).to_string();
            event.error = Some("A user with this userName already exists.");
            event.error_code = Some("uniqueness");
            event.http_status = Some(409);
            events.push(event);
            continue;
        }
        routine_event(rng, &mut event);
        events.push(event);
    }
    events
}

/// An ordinary day's event for `event`'s user: mostly updates, some creates, disables,
/// restores and group changes, a few failures and throttled requests.
fn routine_event(rng: &mut ChaCha8Rng, event: &mut db::demo::DemoEvent) {
    const TITLES: [&str; 5] = ["Analyst", "Manager", "Specialist", "Director", "Associate"];
    const DEPARTMENTS: [&str; 6] = [
        "Finance",
        "Sales",
        "Engineering",
        "HR",
        "Legal",
        "Operations",
    ];
    let Some(user) = event.user.clone() else {
        return;
    };
    let roll: u32 = rng.gen_range(0..100);
    match roll {
        0..=2 => {
            event.outcome = "failure";
            event.error = Some("emails: give the user's email address.");
            event.error_code = Some("invalid_value");
            event.http_status = Some(400);
        }
        3 => {
            event.outcome = "warning";
            event.error = Some("Too many requests with this token; retry after 1 s.");
            event.error_code = Some("rate_limited");
            event.http_status = Some(429);
        }
        4..=8 => event.outcome = "skipped",
        9..=20 => {
            event.action = "create";
            event.changes = serde_json::json!({
                "userName": {"before": null, "after": user.email},
                "active": {"before": null, "after": true},
            })
            .to_string();
        }
        21..=26 => {
            event.action = "preserve";
            event.changes =
                serde_json::json!({"active": {"before": true, "after": false}}).to_string();
        }
        27..=28 => {
            event.action = "restore";
            event.changes =
                serde_json::json!({"active": {"before": false, "after": true}}).to_string();
        }
        29..=36 => {
            let department = DEPARTMENTS[rng.gen_range(0..DEPARTMENTS.len())];
            event.action = "update_group";
            event.identity = department.to_owned();
            event.user = None;
            event.changes = serde_json::json!({"members": {"before": null, "after": format!("+1 member ({})", user.email)}})
                .to_string();
        }
        _ => {
            let before = TITLES[rng.gen_range(0..TITLES.len())];
            let after = TITLES[rng.gen_range(0..TITLES.len())];
            event.changes =
                serde_json::json!({"title": {"before": before, "after": after}}).to_string();
            if before == after {
                event.outcome = "skipped";
                event.changes = "{}".to_owned();
            }
        }
    }
}

fn demo_mappings(
    customer: &DemoCustomer,
    ids: &db::demo::CustomerIds,
    groups: &HashMap<&str, String>,
) -> Vec<SaveMappingRequest> {
    let profile = |name: &str| {
        customer
            .profiles
            .iter()
            .position(|p| *p == name)
            .map(|at| ids.profile_ids[at])
    };
    let default_profile = ids.profile_ids[0];
    let first_region = ids.region_ids[0];
    let eu_region = customer
        .storage_regions
        .iter()
        .position(|r| r.starts_with("EU"))
        .map(|at| ids.region_ids[at]);
    let mapping =
        |name: &str, matcher, profile_id, storage_region_id, quota_gb| SaveMappingRequest {
            name: name.to_owned(),
            matcher,
            profile_id,
            storage_region_id,
            quota_gb,
            enabled: true,
        };
    let attribute = |attribute: &str, values: &[&str]| Matcher::Attribute {
        attribute: attribute.to_owned(),
        operator: AttributeOperator::AnyOf,
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    };
    let mut mappings = vec![mapping(
        "Finance",
        Matcher::Groups {
            groups: groups.get("Finance").cloned().into_iter().collect(),
        },
        profile("Finance").unwrap_or(default_profile),
        first_region,
        Some(200),
    )];
    if let Some(eu_region) = eu_region {
        mappings.push(mapping(
            "Europe",
            attribute("country", &["DE", "IE"]),
            default_profile,
            eu_region,
            Some(100),
        ));
    }
    mappings.push(mapping(
        "Sales and Marketing",
        attribute("department", &["Sales", "Marketing"]),
        profile("Sales").unwrap_or(default_profile),
        first_region,
        Some(50),
    ));
    mappings.push(mapping(
        "Everyone else",
        Matcher::All,
        default_profile,
        first_region,
        None,
    ));
    mappings
}

fn demo_admin(
    email: &'static str,
    display_name: &'static str,
    role: Role,
    customer: Option<&'static str>,
) -> DemoAdmin {
    DemoAdmin {
        email,
        display_name,
        role,
        password: random_password(),
        customer,
    }
}

/// 18 random URL-safe characters (108 bits) from the OS.
pub fn random_password() -> String {
    let mut bytes = [0u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
}

/// The moment the demo data is anchored to, so reruns produce identical rows.
fn anchor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// (customer name, account name when "Hide Customer Name" was chosen, domain, relative size)
const CUSTOMERS: [(&str, Option<&str>, &str, u32); 28] = [
    ("Northwind Traders", None, "northwindtraders.com", 14),
    (
        "Contoso Pharmaceuticals",
        Some("CUST-0142"),
        "contosopharma.com",
        22,
    ),
    ("Fabrikam Manufacturing", None, "fabrikam.com", 18),
    ("Alpine Ski House", None, "alpineskihouse.com", 3),
    (
        "Blue Yonder Airlines",
        Some("BYA Holdings"),
        "blueyonderairlines.com",
        12,
    ),
    ("Coho Winery", None, "cohowinery.com", 2),
    ("Adventure Works Cycles", None, "adventure-works.com", 9),
    (
        "Litware Legal LLP",
        Some("CUST-0219"),
        "litwarelegal.com",
        5,
    ),
    ("Margie's Travel", None, "margiestravel.com", 4),
    (
        "Proseware Health",
        Some("Proseware Group"),
        "prosewarehealth.org",
        16,
    ),
    ("Tailspin Toys", None, "tailspintoys.com", 6),
    ("Wide World Importers", None, "wideworldimporters.com", 11),
    ("Woodgrove Bank", Some("CUST-0307"), "woodgrovebank.com", 25),
    ("Trey Research", None, "treyresearch.net", 4),
    ("Lucerne Publishing", None, "lucernepublishing.com", 3),
    (
        "Graphic Design Institute",
        None,
        "graphicdesigninstitute.edu",
        7,
    ),
    (
        "Humongous Insurance",
        Some("HI Mutual"),
        "humongousinsurance.com",
        19,
    ),
    (
        "Consolidated Messenger",
        None,
        "consolidatedmessenger.com",
        5,
    ),
    ("Fourth Coffee", None, "fourthcoffee.com", 2),
    ("Southridge Video", None, "southridgevideo.com", 3),
    ("VanArsdel Ltd", Some("CUST-0388"), "vanarsdel.com", 8),
    ("Relecloud Energy", None, "relecloud.com", 10),
    ("Datum Corporation", None, "adatum.com", 13),
    (
        "Bellows College",
        Some("Bellows Univ. IT"),
        "bellowscollege.edu",
        15,
    ),
    ("First Up Consultants", None, "firstupconsultants.com", 4),
    ("Nod Publishers", None, "nodpublishers.com", 2),
    ("School of Fine Art", None, "fineartschool.net", 3),
    ("Wingtip Toys", Some("CUST-0451"), "wingtiptoys.com", 6),
];

const SERVICE_PLANS: [&str; 3] = ["Business", "Enterprise", "Elite"];

const PROFILES: [&str; 8] = [
    "Default",
    "Executives",
    "Engineering",
    "Finance",
    "Sales",
    "Remote Workers",
    "Legal Hold",
    "Contractors",
];

const REGIONS: [&str; 6] = [
    "US East (N. Virginia)",
    "US West (Oregon)",
    "EU (Frankfurt)",
    "EU (Ireland)",
    "Asia Pacific (Sydney)",
    "Canada (Central)",
];

const IDENTITY_PROVIDERS: [(&str, u32); 4] = [
    ("Microsoft Entra ID", 45),
    ("Okta", 25),
    ("AD/LDAP", 20),
    ("-", 10),
];

const FIRST_NAMES: [&str; 60] = [
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Amelia",
    "Oliver",
    "Sophia",
    "Elijah",
    "Charlotte",
    "James",
    "Ava",
    "William",
    "Isabella",
    "Benjamin",
    "Mia",
    "Lucas",
    "Evelyn",
    "Henry",
    "Harper",
    "Theodore",
    "Priya",
    "Arjun",
    "Mei",
    "Wei",
    "Hiroshi",
    "Yuki",
    "Fatima",
    "Omar",
    "Aisha",
    "Mateo",
    "Sofía",
    "Diego",
    "Valentina",
    "Lars",
    "Ingrid",
    "Chloé",
    "Louis",
    "Anna",
    "Jonas",
    "Zoë",
    "Kwame",
    "Amara",
    "Chen",
    "Ravi",
    "Ana",
    "João",
    "Siobhan",
    "Declan",
    "Nadia",
    "Tomasz",
    "Olga",
    "Dmitri",
    "Leila",
    "Samir",
    "Grace",
    "Ethan",
    "Hannah",
    "Jack",
    "Maya",
    "Daniel",
];

const LAST_NAMES: [&str; 60] = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Patel",
    "Sharma",
    "Nguyen",
    "Kim",
    "Tanaka",
    "Sato",
    "Müller",
    "Schmidt",
    "Dubois",
    "Rossi",
    "Silva",
    "Santos",
    "Kowalski",
    "Nowak",
    "Ivanov",
    "Jensen",
    "Hansen",
    "O'Brien",
    "Murphy",
    "Kelly",
    "Okafor",
    "Mensah",
    "Haddad",
    "Khan",
    "Ali",
    "Cohen",
    "Levi",
    "Novak",
    "Horvat",
    "Andersson",
    "Larsen",
    "Fischer",
    "Weber",
    "Costa",
    "Ferreira",
    "Wang",
    "Zhang",
    "Li",
    "Chen",
    "Walker",
];

fn customers(rng: &mut ChaCha8Rng) -> Vec<DemoCustomer> {
    let idp_choice = WeightedIndex::new(IDENTITY_PROVIDERS.iter().map(|(_, w)| *w))
        .unwrap_or_else(|_| unreachable!("weights are positive constants"));
    let start = anchor() - Duration::days(3 * 365);
    CUSTOMERS
        .iter()
        .enumerate()
        .map(|(index, (name, account, domain, weight))| {
            let identity_provider = IDENTITY_PROVIDERS[idp_choice.sample(rng)].0;
            let profile_count = rng.gen_range(2..=5);
            let mut profiles = vec![PROFILES[0]];
            profiles.extend(
                PROFILES[1..]
                    .iter()
                    .skip(index % 3)
                    .take(profile_count - 1)
                    .copied(),
            );
            let region_start = index % REGIONS.len();
            let storage_regions = (0..rng.gen_range(1..=2))
                .map(|i| REGIONS[(region_start + i) % REGIONS.len()])
                .collect();
            let custom_attribute = match identity_provider {
                "AD/LDAP" => Some("employeeID"),
                "Microsoft Entra ID" if index % 2 == 0 => Some("department"),
                _ => None,
            };
            DemoCustomer {
                global_id: uuid::Builder::from_random_bytes(rng.gen())
                    .into_uuid()
                    .to_string(),
                name: (*name).to_owned(),
                account_name: account.unwrap_or(name).to_owned(),
                service_plan: SERVICE_PLANS[index % SERVICE_PLANS.len()],
                created_at: timestamp(start - Duration::days(rng.gen_range(1..400))),
                profiles,
                storage_regions,
                domain: (*domain).to_owned(),
                identity_provider,
                custom_attribute,
                weight: *weight,
            }
        })
        .collect()
}

const DEPARTMENTS: [&str; 7] = [
    "Finance",
    "Sales",
    "Engineering",
    "HR",
    "Legal",
    "Operations",
    "Marketing",
];

/// A lazy stream of users, so a million of them never sit in memory at once.
fn users(
    customers: &[DemoCustomer],
    count: u64,
    mut rng: ChaCha8Rng,
) -> impl Iterator<Item = DemoUser> + '_ {
    let customer_choice = WeightedIndex::new(customers.iter().map(|c| c.weight))
        .unwrap_or_else(|_| unreachable!("weights are positive constants"));
    let mut name_uses: HashMap<(usize, usize, usize), u32> = HashMap::new();
    let span_seconds = 3 * 365 * 24 * 3600;
    let anchor = anchor();
    (0..count).map(move |_| {
        let customer_index = customer_choice.sample(&mut rng);
        let customer = &customers[customer_index];
        let (first, last) = (
            rng.gen_range(0..FIRST_NAMES.len()),
            rng.gen_range(0..LAST_NAMES.len()),
        );
        let uses = name_uses.entry((customer_index, first, last)).or_insert(0);
        *uses += 1;
        let suffix = if *uses == 1 {
            String::new()
        } else {
            uses.to_string()
        };
        let local_part = format!(
            "{}.{}{suffix}",
            email_part(FIRST_NAMES[first]),
            email_part(LAST_NAMES[last])
        );
        let roll: f64 = rng.gen();
        let (status, license) = if roll < 0.82 {
            ("Active", "active")
        } else if roll < 0.91 {
            ("Preserved", "preserved")
        } else if roll < 0.96 {
            ("Pending", "-")
        } else {
            ("Active", "-")
        };
        let usage_mb = match status {
            "Pending" => 0,
            // Backup sizes are heavy-tailed: most users hold a few GB, a few hold hundreds.
            _ => (rng.gen::<f64>().powi(3) * 480_000.0) as i64 + rng.gen_range(0..2_000),
        };
        let managed_by = if rng.gen_bool(0.92) {
            customer.identity_provider
        } else {
            "-"
        };
        let (custom_attribute_name, custom_attribute_value) = match customer.custom_attribute {
            Some(name @ "employeeID") => (
                name.to_owned(),
                format!("E{:06}", rng.gen_range(0..1_000_000)),
            ),
            Some(name) => (
                name.to_owned(),
                DEPARTMENTS[rng.gen_range(0..DEPARTMENTS.len())].to_owned(),
            ),
            None => (String::new(), String::new()),
        };
        DemoUser {
            customer: customer_index,
            user_name: format!("{} {}", FIRST_NAMES[first], LAST_NAMES[last]),
            email: format!("{local_part}@{}", customer.domain),
            profile: rng.gen_range(0..customer.profiles.len()),
            storage_region: rng.gen_range(0..customer.storage_regions.len()),
            status,
            license,
            usage_mb,
            created_at: timestamp(anchor - Duration::seconds(rng.gen_range(0..span_seconds))),
            managed_by,
            custom_attribute_name,
            custom_attribute_value,
        }
    })
}

/// Lower-case ASCII letters only, as mail systems usually derive addresses from names.
fn email_part(name: &str) -> String {
    name.chars()
        .filter_map(|c| match c {
            'á' | 'à' | 'ä' | 'ã' | 'â' => Some('a'),
            'ñ' => Some('n'),
            'ç' => Some('c'),
            'é' | 'è' | 'ë' => Some('e'),
            'í' => Some('i'),
            'ó' | 'ö' => Some('o'),
            'ú' | 'ü' => Some('u'),
            c if c.is_ascii_alphabetic() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_yields_the_same_users() {
        let mut rng_a = ChaCha8Rng::seed_from_u64(SEED);
        let mut rng_b = ChaCha8Rng::seed_from_u64(SEED);
        let (a, b) = (customers(&mut rng_a), customers(&mut rng_b));
        let first_a: Vec<String> = users(&a, 50, rng_a).map(|u| u.email).collect();
        let first_b: Vec<String> = users(&b, 50, rng_b).map(|u| u.email).collect();
        assert_eq!(first_a, first_b);
    }

    #[test]
    fn some_account_names_differ_from_customer_names() {
        let customers = customers(&mut ChaCha8Rng::seed_from_u64(SEED));
        assert!(customers.len() >= 25);
        assert!(customers.iter().any(|c| c.account_name != c.name));
        assert!(customers.iter().any(|c| c.account_name == c.name));
    }

    #[test]
    fn emails_are_unique_within_a_customer() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let customers = customers(&mut rng);
        let mut seen = std::collections::HashSet::new();
        for user in users(&customers, 20_000, rng) {
            assert!(
                seen.insert((user.customer, user.email.clone())),
                "{}",
                user.email
            );
        }
    }
}
