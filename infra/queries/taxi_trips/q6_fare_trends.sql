-- One pickup zone's fares hour by hour: trips, average fare, and fare per mile
-- (all fares over all miles, of trips with a distance). The one parameter is the zone, e.g. 161.
SELECT date_trunc('hour', pickuptime) AS pickup_hour, count(*) AS trips,
  round(avg(fare), 2) AS average_fare,
  round(sum(CASE WHEN distance > 0 THEN fare END)
    / sum(CASE WHEN distance > 0 THEN distance END), 2) AS fare_per_mile
FROM taxi_trips
WHERE pickupzone = ?
GROUP BY date_trunc('hour', pickuptime)
ORDER BY pickup_hour
