//! PostgreSQL queries for run steps.

use async_trait::async_trait;

use super::{expect_one, fetch_page, from_document, to_document, PgStore, Table};
use crate::models::{RunStep, RunUsage};
use crate::store::{Page, PageRequest, StepStore, StoreResult, Tenant};

#[async_trait]
impl StepStore for PgStore {
    async fn insert_step(&self, tenant: &Tenant, step: &RunStep) -> StoreResult<()> {
        let result = sqlx::query(
            "INSERT INTO run_steps (id, tenant, thread_id, run_id, created_at, data) \
             SELECT $1, $2, $3, $4, $5, $6 \
             WHERE EXISTS (SELECT 1 FROM runs WHERE tenant = $2 AND id = $4)",
        )
        .bind(&step.id)
        .bind(tenant.as_str())
        .bind(&step.thread_id)
        .bind(&step.run_id)
        .bind(step.created_at)
        .bind(to_document(step)?)
        .execute(&self.pool)
        .await?;
        expect_one(result)
    }

    async fn update_step(&self, tenant: &Tenant, step: &RunStep) -> StoreResult<()> {
        self.update_document(Table::RunSteps, tenant, &step.id, step)
            .await
    }

    async fn delete_step(&self, tenant: &Tenant, id: &str) -> StoreResult<()> {
        self.delete_document(Table::RunSteps, tenant, id).await
    }

    async fn get_step(&self, tenant: &Tenant, run_id: &str, id: &str) -> StoreResult<RunStep> {
        self.get_child_document(Table::RunSteps, tenant, ("run_id", run_id), id)
            .await
    }

    async fn list_steps(
        &self,
        tenant: &Tenant,
        run_id: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<RunStep>> {
        let filters = [("run_id", run_id)];
        fetch_page(&self.pool, Table::RunSteps, tenant, &filters, page).await
    }

    async fn steps_of_run(&self, tenant: &Tenant, run_id: &str) -> StoreResult<Vec<RunStep>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT data FROM run_steps WHERE tenant = $1 AND run_id = $2 ORDER BY seq",
        )
        .bind(tenant.as_str())
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| from_document(row)).collect()
    }

    async fn hold_usage(
        &self,
        tenant: &Tenant,
        step_id: &str,
        usage: &RunUsage,
    ) -> StoreResult<()> {
        let result =
            sqlx::query("UPDATE run_steps SET held_usage = $1 WHERE tenant = $2 AND id = $3")
                .bind(to_document(usage)?)
                .bind(tenant.as_str())
                .bind(step_id)
                .execute(&self.pool)
                .await?;
        expect_one(result)
    }

    async fn held_usage(&self, tenant: &Tenant, step_id: &str) -> StoreResult<Option<RunUsage>> {
        let held: Option<Option<String>> =
            sqlx::query_scalar("SELECT held_usage FROM run_steps WHERE tenant = $1 AND id = $2")
                .bind(tenant.as_str())
                .bind(step_id)
                .fetch_optional(&self.pool)
                .await?;
        held.flatten().map(|text| from_document(&text)).transpose()
    }
}
