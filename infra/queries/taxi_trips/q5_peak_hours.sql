-- Trips and fare revenue (tips left out) per hour of pickup on one day, busiest first.
-- The one parameter is the day (UTC), e.g. '2026-11-23'.
SELECT hour(pickuptime) AS pickup_hour, count(*) AS trips, round(sum(fare), 2) AS revenue
FROM taxi_trips
WHERE CAST(pickuptime AS date) = CAST(? AS date)
GROUP BY hour(pickuptime)
ORDER BY trips DESC, pickup_hour
