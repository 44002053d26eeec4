//! A list query assembled from optional filters: fixed SQL fragments, every value a bind
//! parameter numbered as it is added (`$1`, `$2`, ...), so one statement serves both backends.

use rapport_storage::sqlx::{self, AssertSqlSafe};

use super::Conn;
use crate::error::PlansError;

#[derive(Debug)]
pub struct ListQuery {
    sql: String,
    params: Vec<Param>,
}

#[derive(Debug)]
pub enum Param {
    Text(String),
    Number(i64),
}

impl From<String> for Param {
    fn from(value: String) -> Self {
        Param::Text(value)
    }
}

impl From<i64> for Param {
    fn from(value: i64) -> Self {
        Param::Number(value)
    }
}

impl ListQuery {
    pub fn new(sql: &str) -> Self {
        Self {
            sql: sql.to_owned(),
            params: Vec::new(),
        }
    }

    /// Appends a fixed fragment (never a value: values go through [`ListQuery::bind`]).
    pub fn push(&mut self, fragment: &str) {
        self.sql.push_str(fragment);
    }

    /// Adds a bind parameter; its placeholder, to use in the next fragments (as often as needed).
    pub fn bind(&mut self, value: impl Into<Param>) -> String {
        self.params.push(value.into());
        format!("${}", self.params.len())
    }

    pub async fn fetch_all(self, conn: &mut Conn) -> Result<Vec<sqlx::any::AnyRow>, PlansError> {
        // Built only from fixed fragments; every value is a bind parameter.
        let mut query = sqlx::query(AssertSqlSafe(self.sql));
        for param in self.params {
            query = match param {
                Param::Text(text) => query.bind(text),
                Param::Number(number) => query.bind(number),
            };
        }
        Ok(query.fetch_all(&mut *conn).await?)
    }
}
