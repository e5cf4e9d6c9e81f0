//! Argon2id password hashing, run off the async runtime because it is deliberately slow.

use std::sync::LazyLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

use crate::ApiError;

/// Hashes with the argon2 crate's default: Argon2id with its recommended parameters.
pub async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|_| ApiError::Internal("password hashing failed"))
    })
    .await
    .map_err(|_| ApiError::Internal("password hashing failed"))?
}

/// Checks a password. With no stored hash, a dummy is checked so that an unknown email takes
/// as long as a wrong password and timing does not reveal which accounts exist.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
            && known
    })
    .await
    .unwrap_or(false)
}

/// Argon2id, in the default parameters, of a random password nobody knows.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    let secret = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.as_str().as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});
