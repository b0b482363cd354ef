-- What a risk team would otherwise write: roll facility exposures up the chain of majority
-- holdings with a recursive CTE. Less than groupexposure does: no aggregated control, no
-- dependence, no credit risk mitigation, no limits. {dir} is the portfolio directory.
WITH RECURSIVE
fx AS (
    SELECT currency, rate FROM read_csv('{dir}/fx.csv')
    UNION ALL SELECT 'CNY', 1.0
),
exposure AS (
    SELECT f.obligor_id AS entity_id,
           sum((coalesce(f.drawn, 0) + 0.4 * coalesce(f.undrawn, 0)) * fx.rate) AS amount
    FROM read_csv('{dir}/facilities.csv', types = {{'obligor_id': 'VARCHAR', 'currency': 'VARCHAR'}}) f
    JOIN fx ON fx.currency = coalesce(f.currency, 'CNY')
    GROUP BY 1
),
majority AS (
    SELECT owner_id, owned_id
    FROM read_csv('{dir}/ownership.csv', types = {{'owner_id': 'VARCHAR', 'owned_id': 'VARCHAR'}})
    WHERE coalesce(voting, share) > 0.5 OR control
),
chain(ancestor, entity_id, depth) AS (
    SELECT entity_id, entity_id, 0 FROM exposure
    UNION ALL
    SELECT m.owner_id, c.entity_id, c.depth + 1
    FROM chain c JOIN majority m ON m.owned_id = c.ancestor
    WHERE c.depth < 50
)
SELECT c.ancestor AS entity_id, sum(e.amount) AS chain_exposure
FROM chain c JOIN exposure e USING (entity_id)
GROUP BY 1
